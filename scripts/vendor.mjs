// Copy the front-end libraries the pages use from node_modules into redwheel/static/vendor.
import { copyFileSync, mkdirSync } from "node:fs";

const files = {
  "node_modules/htmx.org/dist/htmx.min.js": "htmx.min.js",
  "node_modules/echarts/dist/echarts.min.js": "echarts.min.js",
};
mkdirSync("redwheel/static/vendor", { recursive: true });
for (const [source, target] of Object.entries(files)) {
  copyFileSync(source, `redwheel/static/vendor/${target}`);
  console.log(`vendored ${target}`);
}
