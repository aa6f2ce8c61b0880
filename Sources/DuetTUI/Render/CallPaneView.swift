import DuetClient

/// The right pane during and after a call: whom, how far along, how media travels, the SAS
/// words to read aloud, what this side hears, and that the keys were wiped at the end.
enum CallPaneView {
    static let labelWidth = 11
    /// The level meter maps this range of dBFS onto its bar.
    static let meterFloor = -60.0
    /// Longer names are cut so the bar keeps most of the row.
    static let maxMeterNameWidth = 16

    /// How readily a block of lines gives way when the pane is too short (the event log takes
    /// part of it): spacing first, then details; the key-log warning, trust, state, SAS words,
    /// mute, level and rejected packets always stay.
    enum Priority: CaseIterable {
        case essential, useful, detail, spacing
    }

    struct Block {
        var lines: [StyledText]
        var priority: Priority
    }

    /// The pane's lines for `state.call`, at most `height` of them when the content allows.
    /// With video, the pictures come under the title and take the rows the essential lines
    /// leave; the details give way first (`fit`).
    static func lines(_ state: TUIState, width: Int, height: Int = .max, colours: ColourDepth = .none) -> [StyledText] {
        guard let call = state.call else {
            return .wrapping([StyledText("No call", .bold), "", "Select a contact and press c to call."], to: width)
        }
        let all = blocks(call, width: width)
        guard let video = call.video, let title = all.first else { return fit(all, height: height) }
        let rest = Array(all.dropFirst())
        let essential = rest.filter { $0.priority == .essential }.reduce(title.lines.count) { $0 + $1.lines.count }
        let rows = CallVideoView.rowsWanted(video, width: width, height: min(height, 10_000) - essential - 1)
        guard rows >= CallVideoView.minimumRows else { return fit(all, height: height) }
        let pictures = CallVideoView.lines(video, peerName: call.peerName ?? call.peerNumber, width: width, rows: rows, colours: colours)
        return title.lines + pictures + [StyledText()] + fit(rest, height: height - title.lines.count - rows - 1)
    }

    static func blocks(_ call: CallView, width: Int) -> [Block] {
        var blocks: [Block] = []
        func add(_ priority: Priority, _ lines: [StyledText]) { blocks.append(Block(lines: lines, priority: priority)) }
        func add(_ priority: Priority, _ text: StyledText) { add(priority, text.wrapped(to: width)) }
        func add(_ priority: Priority, _ label: String, _ value: StyledText) {
            add(priority, TextFormat.labelled(label, value, labelWidth: labelWidth, width: width))
        }
        let spacer = [StyledText()]

        let peer = call.peerName.map { "\($0) (\(call.peerNumber))" } ?? call.peerNumber
        add(.essential, StyledText("Call with \(peer)", .bold))
        if let warning = call.warning { add(.essential, StyledText(warning, .danger)) }
        add(.spacing, spacer)
        add(.essential, "Trust", TextFormat.trust(call.peerTrust))
        add(.useful, "Direction", StyledText(direction(call)))
        var stateText = StyledText(call.state.description)
        if let seconds = call.elapsedSeconds { stateText += "  " + StyledText(TextFormat.timer(seconds), .bold) }
        add(.essential, "State", stateText)
        if let path = call.path { add(.detail, "Path", pathText(path)) }
        if let cipher = call.cipher { add(.detail, "Cipher", StyledText(cipher)) }
        if let sas = call.sas {
            add(.spacing, spacer)
            add(.essential, StyledText("SAS: \(sas) — read these aloud; if they differ, hang up", .bold))
        }
        if let hearing = call.hearing {
            add(.spacing, spacer)
            let name = call.peerName ?? call.peerNumber
            add(.essential, [meter(name: name, nameWidth: min(name.count, maxMeterNameWidth), level: hearing.level, width: width)])
            add(.useful, StyledText("hearing \(hearing.speaker ?? "nobody")"))
            add(
                .detail,
                StyledText(
                    "loss \(TextFormat.oneDecimal(hearing.lossPercent))%  "
                        + "jitter \(TextFormat.oneDecimal(hearing.jitterMilliseconds)) ms"))
            if hearing.tamperedPackets > 0 || hearing.replayedPackets > 0 {
                add(
                    .essential,
                    StyledText(
                        "rejected: \(hearing.tamperedPackets) tampered, \(hearing.replayedPackets) replayed",
                        .danger))
            }
        }
        if call.muted {
            add(.spacing, spacer)
            add(.essential, StyledText("MUTED — sending silence", .warning))
        }
        if call.keysWiped {
            add(.spacing, spacer)
            add(.essential, StyledText("keys wiped ✓", .good))
        }
        return blocks
    }

    /// The blocks' lines, leaving out the least important blocks (the lowest ones first) until
    /// they fit in `height` rows or only essential ones are left.
    static func fit(_ blocks: [Block], height: Int) -> [StyledText] {
        var kept = blocks
        func total() -> Int { kept.reduce(0) { $0 + $1.lines.count } }
        for priority in Priority.allCases.reversed() where priority != .essential {
            var index = kept.count - 1
            while total() > height, index >= 0 {
                if kept[index].priority == priority { kept.remove(at: index) }
                index -= 1
            }
        }
        return kept.flatMap(\.lines)
    }

    /// The media path and what it means for privacy, in a few words.
    static func pathText(_ path: MediaPath) -> StyledText {
        switch path {
        case .p2p: StyledText("P2P", .bold) + " — straight between the two devices"
        case .relay: StyledText("RELAY", .bold) + " — through the server, still end-to-end encrypted"
        case .sfu: StyledText("SFU", .bold) + " — through the group-call router, end-to-end encrypted"
        }
    }

    static func direction(_ call: CallView) -> String {
        guard call.outgoing else { return "incoming" }
        return call.state == .outgoing ? "outgoing — Calling…" : "outgoing"
    }

    /// "Bob  ████████░░░░░░  -20.1 dBFS": `level` from -60 (empty) to 0 dBFS (full). Filled and
    /// empty cells differ in shape, so the bar reads without colour. `nameWidth` lets several
    /// participants' bars line up.
    static func meter(name: String, nameWidth: Int, level: Double, width: Int) -> StyledText {
        let label = StyledText("\(TextFormat.oneDecimal(level)) dBFS").rightAligned(to: 11)
        let barWidth = max(0, width - nameWidth - 2 - 2 - label.count)
        let fraction = level.isFinite ? min(max((level - meterFloor) / -meterFloor, 0), 1) : 0
        let filled = Int((fraction * Double(barWidth)).rounded())
        return StyledText(name, .bold).padded(to: nameWidth) + "  "
            + StyledText(String(repeating: "█", count: filled), .good)
            + StyledText(String(repeating: "░", count: barWidth - filled), .dim)
            + "  " + label
    }
}
