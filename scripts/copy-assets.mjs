// Copies what src/ reads at run time besides code (Cassandra migrations, the common-password
// list) into dist/, next to the compiled modules that read them (`npm run build`).
import { cpSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const CODE = /\.(ts|tsx)$/;

function copyAssets(from, to) {
  for (const name of readdirSync(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    if (statSync(source).isDirectory()) copyAssets(source, target);
    else if (!CODE.test(name)) cpSync(source, target);
  }
}

copyAssets("src", "dist");
