import Foundation

#if canImport(Glibc)
import Glibc
#endif

// herald-benchmark: end-to-end benchmark of `herald serve` against local provider sinks (SPEC §16).
ChildRegistry.installSignalHandlers()
let exitCode = await BenchmarkRunner.main(arguments: Array(CommandLine.arguments.dropFirst()))
ChildRegistry.killAll()
exit(exitCode)
