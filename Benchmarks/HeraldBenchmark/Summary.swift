import Foundation

extension BenchmarkRun {
    /// The W1 lines of the summary.
    func w1Summary(verdict: (Bool?) -> String, mb: (Int?) -> Double?) -> [String] {
        let r = results
        return [
            "W1 events=\(options.events) deliveries_per_s=\(fixed(r.endToEndPerSecond ?? -1, 0)) target_per_s>=10000 "
                + "\(verdict(r.endToEndPerSecond.map { $0 >= 10_000 }))"
                + " sink_window_per_s=\(fixed(r.sinkWindowPerSecond ?? -1, 0))"
                + " enqueue_ms=\(fixed(r.enqueueMs ?? -1)) first_delivery_ms=\(fixed(r.firstDeliveryMs ?? -1))"
                + " last_delivery_ms=\(fixed(r.lastDeliveryMs ?? -1)) delivered=\(r.w1Delivered ?? -1)",
            "W1 rss_peak_mb=\(fixed(mb(r.peakRSSKB) ?? -1)) target_mb<=64 \(verdict(mb(r.peakRSSKB).map { $0 <= 64 }))"
                + " rss_sampled_peak_mb=\(fixed(mb(r.sampledPeakRSSKB) ?? -1))"
                + " rss_after_mb=\(fixed(mb(r.rssAfterW1KB) ?? -1))",
        ]
    }

    /// The W2 lines of the summary.
    func mixedSummary(verdict: (Bool?) -> String, mb: (Int?) -> Double?) -> [String] {
        guard options.runs(.w2) else { return ["W2 skipped"] }
        guard let w2 = results.mixed else { return ["W2 incomplete"] }
        let channels = Self.mixedChannels.map { "\($0.name)=\(w2.perChannel[$0] ?? -1)" }.joined(separator: " ")
        return [
            "W2 events=\(w2.events) deliveries=\(w2.deliveries)"
                + " deliveries_per_s=\(fixed(w2.endToEndPerSecond ?? -1, 0)) target_per_s>=5000"
                + " \(verdict(w2.endToEndPerSecond.map { $0 >= 5_000 }))"
                + " sink_window_per_s=\(fixed(w2.sinkWindowPerSecond ?? -1, 0))"
                + " enqueue_ms=\(fixed(w2.enqueueMs ?? -1)) first_delivery_ms=\(fixed(w2.firstDeliveryMs ?? -1))"
                + " last_delivery_ms=\(fixed(w2.lastDeliveryMs ?? -1)) delivered=\(w2.delivered ?? -1)",
            "W2 \(channels) emails_with_event_id=\(w2.mailWithEventIds)"
                + " rss_peak_mb=\(fixed(mb(w2.peakRSSKB) ?? -1))"
                + " rss_sampled_peak_mb=\(fixed(mb(w2.sampledPeakRSSKB) ?? -1))"
                + " import_ms=\(fixed(w2.importMs ?? -1))",
        ]
    }

    /// The W5 lines of the summary.
    func fanOutSummary(verdict: (Bool?) -> String, mb: (Int?) -> Double?) -> [String] {
        guard options.runs(.w5) else { return ["W5 skipped"] }
        guard let w5 = results.fanOut else { return ["W5 incomplete"] }
        let expected = w5.events * w5.recipientsPerEvent
        let exact =
            w5.slack == expected && w5.email == expected && w5.mailWithEventIds == expected
            && w5.explainDeliveries == w5.recipientsPerEvent * 2
            && w5.explainFallthroughLimit == w5.members - w5.recipientsPerEvent && w5.explainMostRecent == true
        return [
            "W5 members=\(w5.members) events=\(w5.events)"
                + " fanout_ms_per_event=\(fixed(w5.fanOutMsPerEvent ?? -1, 3)) target_ms<=5"
                + " \(verdict(w5.fanOutMsPerEvent.map { $0 <= 5 }))"
                + " exactly_\(w5.recipientsPerEvent)_per_channel \(verdict(exact))"
                + " fanout_total_ms=\(fixed(w5.fanOutMs ?? -1)) fanout_from_enqueue_start_ms="
                + fixed(w5.fanOutFromStartMs ?? -1)
                + " enqueue_ms=\(fixed(w5.enqueueMs ?? -1)) status_polls=\(w5.statusPolls)"
                + " status_poll_ms=\(fixed(w5.statusPollMeanMs ?? -1))"
                + " daemon_cpu_ms_per_event=\(fixed(w5.daemonCPUMsPerEvent ?? -1, 2))",
            "W5 slack=\(w5.slack) email=\(w5.email) expected_each=\(expected)"
                + " emails_with_event_id=\(w5.mailWithEventIds)"
                + " last_delivery_after_enqueue_ms=\(fixed(w5.deliveredMs ?? -1))"
                + " explain_deliveries=\(w5.explainDeliveries ?? -1)"
                + " explain_users=\(w5.explainRecipients ?? -1)"
                + " explain_fallthrough_limit=\(w5.explainFallthroughLimit ?? -1)"
                + " explain_most_recent=\(w5.explainMostRecent.map { $0 ? "yes" : "NO" } ?? "n/a")"
                + " rss_peak_mb=\(fixed(mb(w5.peakRSSKB) ?? -1))"
                + " rss_sampled_peak_mb=\(fixed(mb(w5.sampledPeakRSSKB) ?? -1))"
                + " import_ms=\(fixed(w5.importMs ?? -1))",
        ]
    }
}
