// duet-bench: cost figures for `make bench`, one `name value unit` line each.
// Every bench measures its ratios within one run, interleaving rounds, so a busy machine
// slows numerator and denominator alike. Add a bench by adding its `run(report:)` here.

let report = BenchReport()
OpusBench.run(report: report)
SRTPBench.run(report: report)
SFrameBench.run(report: report)
SFUBench.run(report: report)
await CallSetupBench.run(report: report)
