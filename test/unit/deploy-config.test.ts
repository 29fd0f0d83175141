import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config.js";
import { registry, startDefaultMetrics } from "../../src/metrics/metrics.js";

/**
 * docker-compose.yml and deploy/ cannot be run here (no Docker): at least they parse, point at
 * files that exist, agree on the metrics token, and the dashboard asks only for series the
 * server exports.
 */
const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("deployment files", () => {
  const compose = parse(read("docker-compose.yml"));
  const prometheus = parse(read("deploy/prometheus.yml"));

  it("mount only files and folders that exist", () => {
    for (const [name, service] of Object.entries<{ volumes?: string[] }>(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (source.startsWith("./")) expect(existsSync(new URL(source, root)), `${name}: ${source}`).toBe(true);
      }
    }
    expect(compose.services.prometheus.depends_on).toEqual(["concord-1", "concord-2"]);
  });

  it("scrape every Concord instance with the token the instances expect", () => {
    const job = prometheus.scrape_configs.find((c: { job_name: string }) => c.job_name === "concord");
    expect(job.metrics_path).toBe("/metrics");
    expect(job.authorization.credentials).toBe(compose["x-concord"].environment.METRICS_TOKEN);
    const instances = Object.keys(compose.services).filter((name) => name.startsWith("concord-"));
    expect(job.static_configs[0].targets.sort()).toEqual(instances.map((name) => `${name}:${compose["x-concord"].environment.PORT}`).sort());
  });

  it("send every instance's traces to the Jaeger service's OTLP/HTTP port, and show Jaeger's UI", () => {
    const environment = compose["x-concord"].environment as Record<string, string>;
    const tracing = loadConfig(environment).tracing;
    expect(tracing).toEqual({ serviceName: "concord", tracesUrl: "http://jaeger:4318/v1/traces", protocol: "http/protobuf" });
    const jaeger = compose.services[new URL(tracing!.tracesUrl).hostname];
    expect(jaeger.image).toMatch(/^jaegertracing\/(jaeger:2\.|all-in-one:)/);
    expect(jaeger.ports).toContain("16686:16686");
    expect(compose["x-concord"].depends_on.jaeger).toBeDefined();
  });

  it("has Grafana provisioning that parses and a dashboard using only exported series", async () => {
    expect(parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")).datasources[0].uid).toBe("prometheus");
    expect(parse(read("deploy/grafana/provisioning/dashboards/concord.yml")).providers[0].options.path).toBe("/var/lib/grafana/dashboards");
    const dashboard = JSON.parse(read("deploy/grafana/dashboards/concord.json")) as { panels: { targets: { expr: string }[] }[] };
    startDefaultMetrics();
    const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/\b(?:concord|nodejs|process)_[a-z_]+/g) ?? []));
    expect(used.length).toBeGreaterThan(10);
    // Histograms are exported as <name>_bucket/_sum/_count.
    for (const series of used) expect(exported.has(series) || exported.has(series.replace(/_(bucket|sum|count)$/, "")), series).toBe(true);
  });
});
