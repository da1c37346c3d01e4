import Foundation

/// One number of the summary, e.g. `deliveries_per_s=10400 target>=10000 met`.
struct Figure {
    /// What a target asks of a figure.
    enum Target {
        case atLeast(Double)
        case atMost(Double)

        func holds(_ value: Double) -> Bool {
            switch self {
            case .atLeast(let bound): value >= bound
            case .atMost(let bound): value <= bound
            }
        }

        var text: String {
            switch self {
            case .atLeast(let bound): "target>=\(Self.number(bound))"
            case .atMost(let bound): "target<=\(Self.number(bound))"
            }
        }

        private static func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }

    var name: String
    /// Nil when the workload could not measure it (printed as `n/a`).
    var value: Double?
    var digits: Int
    var target: Target?

    init(_ name: String, _ value: Double?, digits: Int = 1, target: Target? = nil) {
        self.name = name
        self.value = value
        self.digits = digits
        self.target = target
    }

    init(_ name: String, _ value: Int?, target: Target? = nil) {
        self.init(name, value.map(Double.init), digits: 0, target: target)
    }
}

/// One line of the summary: a label (`W1`, `CEILING`, …), its figures, then words that are not numbers
/// (checks, channel names). Workloads add lines to `BenchmarkRun.report`; `--repeat` aggregates the figures of
/// the lines with the same label and position over the runs.
struct ReportLine {
    var label: String
    var figures: [Figure]
    var notes: [String]

    init(_ label: String, _ figures: [Figure], notes: [String] = []) {
        self.label = label
        self.figures = figures
        self.notes = notes
    }

    /// `LABEL name=value [target verdict] … notes`.
    var text: String {
        var parts = [label]
        for figure in figures {
            guard let value = figure.value else {
                parts.append("\(figure.name)=n/a")
                continue
            }
            parts.append("\(figure.name)=\(fixed(value, figure.digits))")
            if let target = figure.target {
                parts.append(target.text)
                parts.append(target.holds(value) ? "met" : "MISSED")
            }
        }
        parts.append(contentsOf: notes)
        return parts.joined(separator: " ")
    }
}

/// The summaries of several runs of the same benchmark, aggregated figure by figure.
struct RepeatedReport {
    var runs: [[ReportLine]] = []

    /// Lines with the median of each figure over the runs, its range, and the verdict of the median.
    var aggregated: [String] {
        guard let first = runs.first else { return [] }
        var occurrences: [String: Int] = [:]
        var lines: [String] = []
        for line in first {
            let position = occurrences[line.label, default: 0]
            occurrences[line.label] = position + 1
            let peers = runs.compactMap { run in run.filter { $0.label == line.label }.dropFirst(position).first }
            var parts = [line.label]
            for (index, figure) in line.figures.enumerated() {
                let values = peers.compactMap { peer -> Double? in
                    guard index < peer.figures.count, peer.figures[index].name == figure.name else { return nil }
                    return peer.figures[index].value
                }.sorted()
                guard !values.isEmpty else {
                    parts.append("\(figure.name)=n/a")
                    continue
                }
                let median = Self.median(values)
                let range = "[\(fixed(values[0], figure.digits))..\(fixed(values[values.count - 1], figure.digits))]"
                parts.append("\(figure.name)=\(fixed(median, figure.digits))\(range)")
                if let target = figure.target {
                    parts.append(target.text)
                    parts.append(target.holds(median) ? "met" : "MISSED")
                }
            }
            parts.append(contentsOf: (peers.last ?? line).notes)
            lines.append(parts.joined(separator: " "))
        }
        return lines
    }

    static func median(_ sorted: [Double]) -> Double {
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
