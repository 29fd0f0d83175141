// Prints the schema as SDL (used by codegen and to review API changes): npm run schema:print
import { printSchema } from "graphql";
import { schema } from "../src/schema/index.js";

process.stdout.write(printSchema(schema) + "\n");
