import { GraphQLError, type ValidationContext } from "graphql";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { useValidationCache } from "../../src/gateway/validation-cache.js";

/** A yoga server whose one extra rule counts its runs and refuses a field named `forbidden`. */
function server() {
  const runs = { count: 0 };
  const CountingRule = (context: ValidationContext) => {
    runs.count++;
    return {
      Field(node: { name: { value: string } }) {
        if (node.name.value === "forbidden") context.reportError(new GraphQLError("forbidden is refused"));
      },
    };
  };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: "type Query { hello: String, forbidden: String }", resolvers: { Query: { hello: () => "hi", forbidden: () => "no" } } }),
    parserAndValidationCache: { validationCache: false },
    logging: false,
    plugins: [useValidationCache(), { onValidate: ({ addValidationRule }) => addValidationRule(CountingRule) } satisfies Plugin],
  });
  const post = async (query: string) => (await yoga.fetch("http://yoga/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })).json();
  return { runs, post };
}

describe("useValidationCache", () => {
  it("validates a document once: a repeat gets the same answer without running the rules again", async () => {
    const { runs, post } = server();
    expect(await post("{ hello }")).toEqual({ data: { hello: "hi" } });
    expect(await post("{ hello }")).toEqual({ data: { hello: "hi" } });
    expect(runs.count).toBe(1);
  });

  it("a refused document is refused every time, with the same errors", async () => {
    const { runs, post } = server();
    const first = await post("{ forbidden }");
    const second = await post("{ forbidden }");
    expect(first.errors?.[0]?.message).toBe("forbidden is refused");
    expect(second).toEqual(first);
    expect(first.data).toBeUndefined();
    expect(runs.count).toBe(1);
    // Another text is validated on its own.
    expect(await post("{ hello forbidden }")).toMatchObject({ errors: [{ message: "forbidden is refused" }] });
    expect(runs.count).toBe(2);
  });
});
