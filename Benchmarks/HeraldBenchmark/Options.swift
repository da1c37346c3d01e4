import Foundation

/// The command line of `herald-benchmark`.
struct Options {
    /// The `herald` executable to benchmark.
    var heraldPath = ".build/release/herald"
    /// Events in the W1 burst.
    var events = 10_000
    /// Events per second in the latency run.
    var latencyRate = 100.0
    /// Length of the latency run in seconds.
    var latencySeconds = 20.0
    /// Where the configuration, database and logs go; a fresh temporary directory when nil.
    var workdir: String?
    /// Skips the latency run.
    var skipLatency = false
    /// Event-loop threads of the sink (1 or 2).
    var sinkThreads = 1
    /// Keeps a generated temporary directory after a successful run.
    var keepWorkdir = false

    static let usage = """
        USAGE: herald-benchmark [options]

        Runs `herald serve` against a local Slack sink (127.0.0.1) and reports start-up time, W1 burst
        throughput, intake -> sink latency and memory, next to the targets of SPEC §16.

        OPTIONS:
          --herald PATH           herald executable (default .build/release/herald)
          --events N              events in the W1 burst (default 10000)
          --latency-rate R        events per second in the latency run (default 100)
          --latency-seconds S     length of the latency run (default 20)
          --workdir DIR           configuration, database and logs (default: a fresh temporary directory,
                                  removed after a successful run)
          --skip-latency          skip the latency run
          --sink-threads N        event-loop threads of the sink, 1 or 2 (default 1)
          --keep-workdir          keep the generated temporary directory
          --help                  show this help

        Exits 0 when every phase completed (a missed target is reported, not an error), 1 on errors
        (missing deliveries, daemon failure), 64 on bad arguments.
        """

    /// Parses `arguments`; nil means `--help` was asked for.
    static func parse(_ arguments: [String]) throws(BenchmarkError) -> Options? {
        var options = Options()
        var index = 0
        func value(_ name: String) throws(BenchmarkError) -> String {
            index += 1
            guard index < arguments.count else { throw BenchmarkError("\(name): missing value") }
            return arguments[index]
        }
        func number(_ name: String, _ text: String, range: ClosedRange<Double>) throws(BenchmarkError) -> Double {
            guard let parsed = Double(text), parsed.isFinite, range.contains(parsed) else {
                throw BenchmarkError(
                    "\(name): \"\(text)\" is not a number in \(range.lowerBound)...\(range.upperBound)"
                )
            }
            return parsed
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--help", "-h":
                return nil
            case "--herald":
                options.heraldPath = try value(argument)
            case "--events":
                let text = try value(argument)
                guard let parsed = Int(text), (1...10_000_000).contains(parsed) else {
                    throw BenchmarkError("--events: \"\(text)\" is not a count in 1...10000000")
                }
                options.events = parsed
            case "--latency-rate":
                options.latencyRate = try number(argument, try value(argument), range: 0.1...10_000)
            case "--latency-seconds":
                options.latencySeconds = try number(argument, try value(argument), range: 0.1...3600)
            case "--workdir":
                options.workdir = try value(argument)
            case "--skip-latency":
                options.skipLatency = true
            case "--sink-threads":
                let text = try value(argument)
                guard let parsed = Int(text), (1...2).contains(parsed) else {
                    throw BenchmarkError("--sink-threads: must be 1 or 2")
                }
                options.sinkThreads = parsed
            case "--keep-workdir":
                options.keepWorkdir = true
            default:
                throw BenchmarkError("unknown argument \"\(argument)\" (see --help)")
            }
            index += 1
        }
        return options
    }
}

/// A failure that ends the benchmark with a non-zero exit code.
struct BenchmarkError: Error, CustomStringConvertible {
    /// What went wrong, in one line.
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
