// Plots the rollout benchmark's growth with N: wall time over the lower bound, and Temporal
// actions per replaced machine, from every test/bench/out/rollout-N*.json the benchmark wrote.
// Writes test/bench/out/rollout-scaling.json (the points) and rollout-scaling.png (Chart.js on
// @napi-rs/canvas: no browser, no native build).
//   npm run bench:plot
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';

const OUT = 'test/bench/out';
Chart.register(...registerables);

interface Run {
  machines: number;
  maxSurge: number;
  rollout: { ratio: number; cloud: { ratioToCloudPath: number } };
  actions: { perReplacedMachine: number };
  worker: { peakRssMiB: number };
}

const runs = readdirSync(OUT)
  .filter((f) => /^rollout-N\d+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(join(OUT, f), 'utf8')) as Run)
  .sort((a, b) => a.machines - b.machines);
if (runs.length === 0) {
  console.error(`no ${OUT}/rollout-N*.json: run npm run bench:rollout -- --machines N first`);
  process.exit(1);
}
const points = runs.map((r) => ({
  machines: r.machines,
  maxSurge: r.maxSurge,
  ratioToLowerBound: r.rollout.ratio,
  ratioToCloudPath: r.rollout.cloud.ratioToCloudPath,
  actionsPerReplacedMachine: r.actions.perReplacedMachine,
  peakWorkerRssMiB: r.worker.peakRssMiB,
}));
writeFileSync(join(OUT, 'rollout-scaling.json'), JSON.stringify(points, null, 2) + '\n');

const canvas = createCanvas(900, 500);
const labels = points.map((p) => `N = ${p.machines}`);
const chart = new Chart(canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0], {
  type: 'line',
  data: {
    labels,
    datasets: [
      { label: 'wall time / lower bound', data: points.map((p) => p.ratioToLowerBound), borderColor: '#1f77b4', backgroundColor: '#1f77b4', yAxisID: 'ratio' },
      { label: 'target ratio (1.10)', data: points.map(() => 1.1), borderColor: '#1f77b4', borderDash: [6, 4], pointRadius: 0, yAxisID: 'ratio' },
      { label: 'actions per replaced machine', data: points.map((p) => p.actionsPerReplacedMachine), borderColor: '#d62728', backgroundColor: '#d62728', yAxisID: 'actions' },
      { label: 'target actions (12)', data: points.map(() => 12), borderColor: '#d62728', borderDash: [6, 4], pointRadius: 0, yAxisID: 'actions' },
    ],
  },
  options: {
    responsive: false,
    animation: false,
    plugins: { title: { display: true, text: 'capstan rollout benchmark: growth with N (maxSurge 10 %, maxUnavailable 0)' } },
    scales: {
      ratio: { type: 'linear', position: 'left', min: 1, title: { display: true, text: 'wall time / lower bound' } },
      actions: { type: 'linear', position: 'right', min: 0, title: { display: true, text: 'Temporal actions per replaced machine' }, grid: { drawOnChartArea: false } },
    },
  },
  plugins: [
    {
      id: 'background',
      beforeDraw: (c) => {
        const ctx = c.ctx;
        ctx.save();
        ctx.fillStyle = 'white';
        ctx.fillRect(0, 0, c.width, c.height);
        ctx.restore();
      },
    },
  ],
});
writeFileSync(join(OUT, 'rollout-scaling.png'), canvas.toBuffer('image/png'));
chart.destroy();
for (const p of points) {
  console.log(`N=${p.machines} (surge ${p.maxSurge}): ratio ${p.ratioToLowerBound} (cloud path ${p.ratioToCloudPath}), ${p.actionsPerReplacedMachine} actions/machine, worker RSS ${p.peakWorkerRssMiB} MiB`);
}
console.log(`plot: ${OUT}/rollout-scaling.png; points: ${OUT}/rollout-scaling.json`);
