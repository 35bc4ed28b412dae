/**
 * A time-series chart of the last 15 minutes (uPlot: small and fast, canvas-drawn), one or more
 * series over the stats samples. It sizes itself to its container and redraws on new data without
 * being rebuilt. A screen reader gets the latest values as text instead.
 */
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import type { StatsSample } from './api-types.js'

export interface Series {
  label: string
  color: string
  value: (s: StatsSample) => number
}

export function Chart({
  title,
  samples,
  series,
}: {
  title: string
  samples: readonly StatsSample[]
  series: Series[]
}) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | undefined>(undefined)
  const data = (): uPlot.AlignedData => [
    samples.map((s) => s.at / 1000),
    ...series.map((line) => samples.map((s) => line.value(s))),
  ]

  // biome-ignore lint/correctness/useExhaustiveDependencies: built once; data is pushed below
  useEffect(() => {
    const el = box.current
    if (!el) return
    const options: uPlot.Options = {
      width: el.clientWidth,
      height: 160,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#94a3b8', grid: { stroke: '#1e293b' }, ticks: { stroke: '#334155' } },
        { stroke: '#94a3b8', grid: { stroke: '#1e293b' }, ticks: { stroke: '#334155' }, size: 50 },
      ],
      series: [
        {},
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } })),
      ],
    }
    plot.current = new uPlot(options, data(), el)
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 160 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.current?.destroy()
      plot.current = undefined
    }
  }, [])

  useEffect(() => {
    plot.current?.setData(data())
  })

  const latest = samples[samples.length - 1]
  return (
    <figure className="card chart">
      <figcaption>{title}</figcaption>
      <div ref={box} aria-hidden="true" />
      <p className="sr-only">
        {latest ? series.map((s) => `${s.label}: ${s.value(latest)}`).join(', ') : 'no data yet'}
      </p>
    </figure>
  )
}
