import Foundation

/// A workload of SPEC §16 that the benchmark can run.
enum Workload: String, CaseIterable, Sendable {
    /// W1 burst: one Slack delivery per event.
    case w1
    /// W3 latency: a steady rate through `herald enqueue --stream`.
    case w3
    /// W2 mixed: `escalating` events with email, Slack, Teams, a PagerDuty route and SMS each.
    case w2
    /// W5 fan-out: ownerless `issue_alert` events on a large project (fallthrough to 20 active members).
    case w5
    /// W7: W1 on the PostgreSQL store with 1 and 3 instances (needs a server; see PostgresWorkload.swift).
    case w7
    /// W1-HTTP: the W1 events POSTed to the API, in batches of 100 and one per request.
    case w1http = "w1-http"
    /// W6 API: the preference matrix read and a row patched, as users with JWTs.
    case w6
}

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
    /// The workloads to run, in this order.
    var workloads: [Workload] = [.w1, .w3, .w2, .w5]
    /// Events in W2 (5 deliveries each).
    var mixedEvents = 2_000
    /// Active members of the W5 project.
    var fanOutMembers = 5_000
    /// Events enqueued in one batch in W5.
    var fanOutEvents = 200
    /// Keep-alive connections of the HTTP load generator (W1-HTTP, W6).
    var httpConnections = 64
    /// `GET /notifications/preferences` requests in W6.
    var w6Gets = 20_000
    /// `PATCH /notifications/preferences/{key}` requests in W6.
    var w6Patches = 10_000
    /// Pause between two `herald status` polls while W5 waits for its events to be fanned out.
    var fanOutPollMs = 2.0
    /// Whole runs (fresh workdir, sink and daemon each); the summary gives each figure's median and range.
    var repeats = 1
    /// Requests of the bare curl ceiling and rows of the bare SQLite ceiling.
    var ceilingRequests = 10_000
    /// Skips the ceilings (then no ratio_to_ceiling is printed).
    var skipCeiling = false

    static let usage = """
        USAGE: herald-benchmark [options]

        Runs `herald serve` against local provider sinks (HTTP and SMTP on 127.0.0.1) and reports start-up
        time, W1 burst throughput, W3 intake -> sink latency, W2 mixed-channel throughput, W5 fan-out cost and
        memory, next to the targets of SPEC §16.

        OPTIONS:
          --herald PATH           herald executable (default .build/release/herald)
          --workloads LIST        comma-separated workloads to run, in order: w1, w3 (the latency run), w2,
                                  w5, w7 (W1 on PostgreSQL, 1 and 3 instances; needs
                                  HERALD_TEST_POSTGRES_URL, e.g. under scripts/with-postgres.sh),
                                  w1-http (W1 through POST /api/v1/events), w6 (preference API)
                                  (default w1,w3,w2,w5)
          --events N              events in the W1 burst (default 10000)
          --w2-events N           events in W2, 5 deliveries each (default 2000)
          --w5-members N          active members of the W5 project (default 5000)
          --w5-events K           issue_alert events enqueued in one W5 batch (default 200)
          --w5-poll-ms MS         pause between herald status polls while W5 waits for fan-out (default 2)
          --http-connections N    keep-alive connections of the HTTP load generator (default 64)
          --w6-gets N             GET /notifications/preferences requests in W6 (default 20000)
          --w6-patches N          PATCH /notifications/preferences/{key} requests in W6 (default 10000)
          --repeat N              run everything N times (fresh daemon each) and report median and range
                                  of every figure (default 1)
          --ceiling-requests N    requests of the bare CurlTransport ceiling and rows of the bare SQLite
                                  ceiling, measured in every run (default 10000)
          --skip-ceiling          skip the ceilings (no ratio_to_ceiling)
          --latency-rate R        events per second in the latency run (default 100)
          --latency-seconds S     length of the latency run (default 20)
          --workdir DIR           configuration, database and logs (default: a fresh temporary directory,
                                  removed after a successful run)
          --skip-latency          skip the latency run (W3)
          --sink-threads N        event-loop threads of the sink, 1 or 2 (default 1)
          --keep-workdir          keep the generated temporary directory
          --help                  show this help

        Exits 0 when every phase completed (a missed target is reported, not an error), 1 on errors
        (missing or unexpected deliveries, a failed check, daemon failure), 64 on bad arguments.
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
        func count(_ name: String, _ text: String, range: ClosedRange<Int>) throws(BenchmarkError) -> Int {
            guard let parsed = Int(text), range.contains(parsed) else {
                throw BenchmarkError("\(name): \"\(text)\" is not a count in \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
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
                options.events = try count(argument, try value(argument), range: 1...10_000_000)
            case "--workloads":
                options.workloads = try parseWorkloads(try value(argument))
            case "--w2-events":
                options.mixedEvents = try count(argument, try value(argument), range: 1...1_000_000)
            case "--w5-members":
                options.fanOutMembers = try count(argument, try value(argument), range: 1...1_000_000)
            case "--w5-events":
                options.fanOutEvents = try count(argument, try value(argument), range: 1...100_000)
            case "--http-connections":
                options.httpConnections = try count(argument, try value(argument), range: 1...4096)
            case "--w6-gets":
                options.w6Gets = try count(argument, try value(argument), range: 1...10_000_000)
            case "--w6-patches":
                options.w6Patches = try count(argument, try value(argument), range: 1...10_000_000)
            case "--w5-poll-ms":
                options.fanOutPollMs = try number(argument, try value(argument), range: 0...10_000)
            case "--repeat":
                options.repeats = try count(argument, try value(argument), range: 1...100)
            case "--ceiling-requests":
                options.ceilingRequests = try count(argument, try value(argument), range: 1...10_000_000)
            case "--skip-ceiling":
                options.skipCeiling = true
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
        if options.skipLatency { options.workloads.removeAll { $0 == .w3 } }
        return options
    }

    /// A comma-separated list of workloads; duplicates are dropped, the order is kept.
    private static func parseWorkloads(_ text: String) throws(BenchmarkError) -> [Workload] {
        var workloads: [Workload] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let workload = Workload(rawValue: name) else {
                let known = Workload.allCases.map(\.rawValue).joined(separator: ", ")
                throw BenchmarkError("--workloads: unknown workload \"\(name)\" (known: \(known))")
            }
            if !workloads.contains(workload) { workloads.append(workload) }
        }
        return workloads
    }

    /// Whether `workload` is selected.
    func runs(_ workload: Workload) -> Bool { workloads.contains(workload) }
}

/// A failure that ends the benchmark with a non-zero exit code.
struct BenchmarkError: Error, CustomStringConvertible {
    /// What went wrong, in one line.
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
