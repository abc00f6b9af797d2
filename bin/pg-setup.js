#!/usr/bin/env node
// Thin shim: the real entry point is the compiled CLI.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
