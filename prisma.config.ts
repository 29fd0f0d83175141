import { defineConfig } from "prisma/config";

// The datasource URL is only needed by Prisma's CLI (e.g. `prisma migrate diff` against a live
// database); the app applies committed migrations itself (src/stores/prisma/migrate.ts).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/concord" },
});
