// What a pull-only application imports: instruments, a registry and the
// /metrics handler. Its bundle shows what tree-shaking leaves of the module.
export { Counter, Histogram, metricsHandler, Registry } from "../../mod.ts";
