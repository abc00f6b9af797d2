#!/usr/bin/env node
// Thin shim: the real entry point is the bundled CLI (see scripts/build.mjs).
'use strict';
const { main } = require('../dist/cli.cjs');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
