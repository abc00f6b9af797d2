/**
 * import() of a module outside pg-setup's bundle: dockerode and @inquirer/prompts from
 * node_modules, a test's hook module by its file URL. The commands bundle runs as a `vm.Script`
 * (src/io/code-cache.ts), where Node 20 refuses import() without an experimental flag; this
 * module lives in dist/cli.cjs, an ordinary CommonJS module, so the import is Node's own.
 */
export function importOutside<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
