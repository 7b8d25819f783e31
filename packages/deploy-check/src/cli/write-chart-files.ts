/** `make helm-schema`: regenerates the chart's values.schema.json and files/process-env.json from the config schemas. */
import { writeGeneratedChartFiles } from '../index.js';

for (const path of writeGeneratedChartFiles()) process.stdout.write(`wrote ${path}\n`);
process.exit(0);
