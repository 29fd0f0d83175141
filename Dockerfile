# Concord instance image: the compiled JavaScript (`npm run build`), run as `npm run start:prod`
# does. (`npm start` runs the TypeScript through tsx; in production that costs memory per
# connection, for esbuild's keepNames wrappers, and start-up time.)

# Build stage: compiles src/ and the generated Prisma client to dist/ with tsc, and builds the
# web client (examples/web) with Vite.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts/prisma-generate.mjs scripts/copy-assets.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY tsconfig.json tsconfig.build.json ./
RUN npm run build
# The reference web client, served at /app (WEB_CLIENT=false turns it off).
COPY examples/web ./examples/web
RUN npm run build:web

# Run stage: production dependencies and dist/ (migrations are read from prisma/ and dist/).
FROM node:22-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts/prisma-generate.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=build /app/examples/web/dist ./examples/web/dist
EXPOSE 4000
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD node -e "fetch('http://127.0.0.1:4000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
