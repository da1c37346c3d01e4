import Foundation

// How to add a workload (W1-HTTP, W6, W7, …) on top of this framework:
// 1. a case in `Workload` (Options.swift) and a file `XxxWorkload.swift` with `func xxx() throws` on `BenchmarkRun`
//    that runs it and stores its results (take `ProcessSample.take(daemon.pid)` before and after the timed window
//    and keep the `ProcessUsage`);
// 2. its dispatch in `BenchmarkRun.execute()`;
// 3. a `xxxSummary() -> [ReportLine]` here, listed in `summaryLines()`: a throughput figure, its
//    `ratio_to_ceiling` (`ratioToCurl`), and `usage.figures(per:unit:)`. `--repeat` then aggregates every
//    figure (median and range) without more code.

extension BenchmarkRun {
    /// Every line of this run's summary, in order; `--repeat` aggregates them by label and position.
    func summaryLines() -> [ReportLine] {
        let r = results
        var lines: [ReportLine] = [
            ReportLine(
                "STARTUP",
                [
                    Figure("ready_ms", r.startupMs, target: .atMost(300)),
                    Figure("fresh_db_ready_ms", r.freshStartupMs),
                ]
            ),
            ReportLine(
                "IDLE",
                [
                    Figure("rss_mb", mb(r.idleRSSKB), target: .atMost(25)),
                    Figure("rss_anon_mb", mb(r.idleAnonKB)),
                    Figure("rss_file_mb", mb(r.idleFileKB)),
                ]
            ),
        ]
        lines.append(contentsOf: ceilingSummary())
        lines.append(contentsOf: w1Summary())
        lines.append(contentsOf: latencySummary())
        lines.append(contentsOf: mixedSummary())
        lines.append(contentsOf: fanOutSummary())
        lines.append(contentsOf: postgresSummary())
        lines.append(contentsOf: httpSummary())
        lines.append(
            ReportLine(
                "SHUTDOWN",
                [
                    Figure("exit_code", r.exitCode.map(Int.init)),
                    Figure("shutdown_ms", r.shutdownMs),
                    Figure("rss_peak_since_last_reset_mb", mb(r.overallPeakRSSKB)),
                ]
            )
        )
        lines.append(
            ReportLine(
                "SINK",
                [Figure("other_requests", recorder.otherCount), Figure("sink_threads", options.sinkThreads)]
            )
        )
        lines.append(
            ReportLine(
                "CHECKS",
                [Figure("failed", failedChecks.count, target: .atMost(0))],
                notes: failedChecks.isEmpty ? ["all passed"] : failedChecks
            )
        )
        return lines
    }

    func mb(_ kb: Int?) -> Double? { kb.map { Double($0) / 1024 } }

    /// The W1 lines: throughput, ratio to the curl ceiling, CPU and context switches, memory.
    func w1Summary() -> [ReportLine] {
        guard options.runs(.w1) else { return [ReportLine("W1", [], notes: ["skipped"])] }
        let r = results
        var lines = [
            ReportLine(
                "W1",
                [
                    Figure("deliveries_per_s", r.endToEndPerSecond, digits: 0, target: .atLeast(10_000)),
                    Figure("ratio_to_ceiling", ratioToCurl(r.endToEndPerSecond), digits: 3, target: .atLeast(0.25)),
                    Figure("ratio_to_sqlite_ceiling", ratioToSQLite(r.endToEndPerSecond), digits: 3),
                    Figure("sink_window_per_s", r.sinkWindowPerSecond, digits: 0),
                    Figure("sink_window_ratio_to_ceiling", ratioToCurl(r.sinkWindowPerSecond), digits: 3),
                    Figure("enqueue_ms", r.enqueueMs),
                    Figure("first_delivery_ms", r.firstDeliveryMs),
                    Figure("last_delivery_ms", r.lastDeliveryMs),
                    Figure("delivered", r.w1Delivered),
                ]
            ),
            ReportLine(
                "W1",
                [
                    Figure("rss_peak_mb", mb(r.peakRSSKB), target: .atMost(64)),
                    Figure("rss_sampled_peak_mb", mb(r.sampledPeakRSSKB)),
                    Figure("rss_after_mb", mb(r.rssAfterW1KB)),
                ]
            ),
        ]
        if let usage = r.w1Usage {
            lines.append(ReportLine("W1", usage.figures(per: options.events, unit: "delivery")))
        }
        return lines
    }

    /// The W3 lines: latency percentiles, CPU and context switches per event.
    /// `floor / value`, when both are known and positive.
    func ratio(_ floor: Double?, over value: Double?) -> Double? {
        guard let floor, let value, value > 0 else { return nil }
        return floor / value
    }

    /// Milliseconds the bare SQLite insert of this run takes for `rowsPerEvent` rows.
    func storeFloorMs(rowsPerEvent: Int) -> Double? {
        guard let rate = results.ceilings?.sqliteInsertPerSecond, rate > 0 else { return nil }
        return Double(rowsPerEvent) / rate * 1000
    }

    func latencySummary() -> [ReportLine] {
        guard let latency = results.latency else { return [ReportLine("W3", [], notes: ["skipped"])] }
        var lines = [
            ReportLine(
                "W3",
                [
                    Figure("count", results.latencyCount),
                    Figure("rate_per_s", options.latencyRate, digits: 0),
                    Figure("p50_ms", latency.p50, digits: 2, target: .atMost(2)),
                    Figure("p90_ms", latency.p90, digits: 2),
                    Figure("p99_ms", latency.p99, digits: 2, target: .atMost(10)),
                    // The bare transport's latency over Herald's: 1 would mean intake, store and worker cost nothing.
                    Figure("ratio_to_ceiling", ratio(results.ceilings?.latencyP50Ms, over: latency.p50), digits: 3),
                    Figure("p99_ratio_to_ceiling", ratio(results.ceilings?.latencyP99Ms, over: latency.p99), digits: 3),
                    Figure("max_ms", latency.max, digits: 2),
                    Figure("mean_ms", latency.mean, digits: 2),
                    Figure("rss_after_mb", mb(results.rssAfterRunKB)),
                ]
            )
        ]
        if let usage = results.latencyUsage {
            lines.append(ReportLine("W3", usage.figures(per: results.latencyCount ?? 1, unit: "delivery")))
        }
        return lines
    }

    /// The W2 lines.
    func mixedSummary() -> [ReportLine] {
        guard options.runs(.w2) else { return [ReportLine("W2", [], notes: ["skipped"])] }
        guard let w2 = results.mixed else { return [ReportLine("W2", [], notes: ["incomplete"])] }
        var lines = [
            ReportLine(
                "W2",
                [
                    Figure("events", w2.events),
                    Figure("deliveries", w2.deliveries),
                    Figure("deliveries_per_s", w2.endToEndPerSecond, digits: 0, target: .atLeast(5_000)),
                    Figure("ratio_to_ceiling", ratioToCurl(w2.endToEndPerSecond), digits: 3),
                    Figure("sink_window_per_s", w2.sinkWindowPerSecond, digits: 0),
                    Figure("enqueue_ms", w2.enqueueMs),
                    Figure("first_delivery_ms", w2.firstDeliveryMs),
                    Figure("last_delivery_ms", w2.lastDeliveryMs),
                    Figure("delivered", w2.delivered),
                ]
            ),
            ReportLine(
                "W2",
                Self.mixedChannels.map { Figure($0.name, w2.perChannel[$0] ?? -1) } + [
                    Figure("emails_with_event_id", w2.mailWithEventIds),
                    Figure("rss_peak_mb", mb(w2.peakRSSKB)),
                    Figure("rss_sampled_peak_mb", mb(w2.sampledPeakRSSKB)),
                    Figure("import_ms", w2.importMs),
                ]
            ),
        ]
        if let usage = w2.usage {
            lines.append(ReportLine("W2", usage.figures(per: w2.deliveries, unit: "delivery")))
        }
        return lines
    }

    /// The W5 lines.
    func fanOutSummary() -> [ReportLine] {
        guard options.runs(.w5) else { return [ReportLine("W5", [], notes: ["skipped"])] }
        guard let w5 = results.fanOut else { return [ReportLine("W5", [], notes: ["incomplete"])] }
        let expected = w5.events * w5.recipientsPerEvent
        let exact =
            w5.slack == expected && w5.email == expected && w5.mailWithEventIds == expected
            && w5.explainDeliveries == w5.recipientsPerEvent * 2
            && w5.explainFallthroughLimit == w5.members - w5.recipientsPerEvent && w5.explainMostRecent == true
        var lines = [
            ReportLine(
                "W5",
                [
                    Figure("members", w5.members),
                    Figure("events", w5.events),
                    Figure("fanout_ms_per_event", w5.fanOutMsPerEvent, digits: 3, target: .atMost(5)),
                    // The yardstick: writing the rows one event produces (its deliveries, its cut as one row, the
                    // event's own update) with the bare SQLite insert of this run.
                    Figure(
                        "store_floor_ms_per_event",
                        storeFloorMs(rowsPerEvent: 2 * w5.recipientsPerEvent + 2),
                        digits: 3
                    ),
                    Figure(
                        "ratio_to_ceiling",
                        ratio(storeFloorMs(rowsPerEvent: 2 * w5.recipientsPerEvent + 2), over: w5.fanOutMsPerEvent),
                        digits: 3
                    ),
                    Figure("daemon_cpu_ms_per_event", w5.daemonCPUMsPerEvent, digits: 2),
                    Figure("rss_peak_mb", mb(w5.peakRSSKB), target: .atMost(64)),
                    Figure("fanout_total_ms", w5.fanOutMs),
                    Figure("fanout_from_enqueue_start_ms", w5.fanOutFromStartMs),
                    Figure("enqueue_ms", w5.enqueueMs),
                    Figure("status_polls", w5.statusPolls),
                    Figure("status_poll_ms", w5.statusPollMeanMs),
                ],
                notes: ["exactly_\(w5.recipientsPerEvent)_per_channel=\(exact ? "met" : "MISSED")"]
            ),
            ReportLine(
                "W5",
                [
                    Figure("slack", w5.slack),
                    Figure("email", w5.email),
                    Figure("expected_each", expected),
                    Figure("emails_with_event_id", w5.mailWithEventIds),
                    Figure("last_delivery_after_enqueue_ms", w5.deliveredMs),
                    Figure("explain_deliveries", w5.explainDeliveries),
                    Figure("explain_users", w5.explainRecipients),
                    Figure("explain_fallthrough_limit", w5.explainFallthroughLimit),
                    Figure("rss_sampled_peak_mb", mb(w5.sampledPeakRSSKB)),
                    Figure("import_ms", w5.importMs),
                ],
                notes: ["explain_most_recent=\(w5.explainMostRecent.map { $0 ? "yes" : "NO" } ?? "n/a")"]
            ),
        ]
        if let usage = w5.usage {
            lines.append(ReportLine("W5", usage.figures(per: w5.events, unit: "event")))
        }
        return lines
    }
}
