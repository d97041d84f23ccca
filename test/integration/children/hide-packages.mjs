// `node --import ./hide-packages.mjs app.mjs` with HIDE_PACKAGES=snappyjs,@platformatic/kafka: those packages resolve
// as if they were not installed (ERR_MODULE_NOT_FOUND), as in a project that never installed them. Nothing is
// uninstalled; only this process is affected.
import { register } from 'node:module';

const hook = `
const hidden = new Set((process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean));
export async function resolve(specifier, context, next) {
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  if (hidden.has(name)) {
    const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
