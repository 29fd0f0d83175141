import { defaultFieldResolver, type GraphQLSchema } from "graphql";
import { clearLoaders, type RequestContext } from "../context.js";

/**
 * GraphQL runs a mutation's root fields one after another, and each must see what the earlier
 * ones wrote: `mutation { leaveGuild(guildId: 1) createInvite(input: { guildId: 1 }) { code } }`
 * must refuse the invite, not read the membership the request cached before leaving. So every
 * Mutation field starts with the request's loader caches cleared (the loaders built so far; a
 * clear costs nothing when nothing was cached). Queries keep their caches: they read only.
 */
export function freshReadsPerMutationField(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, ctx: RequestContext, info) => {
      clearLoaders(ctx.loaders);
      return resolve(source, args, ctx, info);
    };
  }
  return schema;
}
