import Foundation

// duet-bench: cost figures for `make bench`, one `name value unit` line each.
// Every bench measures its ratios within one run, interleaving rounds, so a busy machine
// slows numerator and denominator alike. Add a bench by adding its `run(report:)` here.
// `duet-bench NAME…` runs only the benches named (opus, media-path, srtp, sframe, sfu, call-setup, call-setup-netns, rekey,
// recording, video, group-video, load, load-nodes, forward, relay-vs-coturn).

// The load and forwarding benches' server runs in a child process:
// `duet-bench --serve DIR [--allow-loopback-peers] [--database URL]`.
if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "--serve" {
    let options = Array(CommandLine.arguments.dropFirst(3))
    await LoadServerProcess.serve(
        dataDirectory: CommandLine.arguments[2],
        allowingLoopbackPeers: options.contains(LoadServerProcess.loopbackPeersFlag),
        database: options.firstIndex(of: LoadServerProcess.databaseFlag).flatMap {
            options.indices.contains($0 + 1) ? options[$0 + 1] : nil
        })
    exit(0)
}

let report = BenchReport()
let chosen = Set(CommandLine.arguments.dropFirst())
func wanted(_ name: String) -> Bool { chosen.isEmpty || chosen.contains(name) }

if wanted("opus") { OpusBench.run(report: report) }
if wanted("media-path") { MediaPathBench.run(report: report) }
if wanted("srtp") { SRTPBench.run(report: report) }
if wanted("sframe") { SFrameBench.run(report: report) }
if wanted("sfu") { SFUBench.run(report: report) }
if wanted("call-setup") { await CallSetupBench.run(report: report) }
if wanted("call-setup-netns") { await NetnsCallBench.run(report: report) }
if wanted("rekey") { await RekeyBench.run(report: report) }
if wanted("recording") { RecordingBench.run(report: report) }
if wanted("video") { VideoBench.run(report: report) }
if wanted("group-video") { await GroupVideoBench.run(report: report) }
if wanted("load") { await LoadBench.run(report: report) }
if wanted("load-nodes") { await NodesLoadBench.run(report: report) }
if wanted("forward") { await ForwardBench.run(report: report) }
if wanted("relay-vs-coturn") { await RelayCoturnBench.run(report: report) }
