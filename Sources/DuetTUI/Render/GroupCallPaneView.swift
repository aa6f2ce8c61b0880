import DuetClient

/// The right pane during and after a group call: the group, how media travels (to the
/// server's SFU, with voices end-to-end encrypted inside), this device's key epoch and how
/// often it changed, a level meter and "hearing"/"not heard" for everyone else in the room,
/// the members who are not in it (and whether they already hold this device's key), and
/// that every key was wiped at the end.
enum GroupCallPaneView {
    typealias Block = CallPaneView.Block
    static let labelWidth = CallPaneView.labelWidth
    /// "not heard" is the longest status word.
    static let statusWidth = 9

    /// With video, the tiles come under the title and take the rows the essential lines leave
    /// (as a 1:1 call's pictures do, `CallPaneView`).
    static func lines(_ state: TUIState, width: Int, height: Int = .max, colours: ColourDepth = .none) -> [StyledText] {
        guard let call = state.groupCall else {
            return .wrapping([StyledText("No group call", .bold), "", "Select a group and press c to call it."], to: width)
        }
        let tiles = call.video.map { call.phase.isActive ? GroupTilesView.tiles(call, video: $0) : [] } ?? []
        return GroupTilesView.pane(blocks(call, width: width), tiles: tiles, width: width, height: height, colours: colours)
    }

    static func blocks(_ call: GroupCallView, width: Int) -> [Block] {
        var blocks: [Block] = []
        func add(_ priority: CallPaneView.Priority, _ lines: [StyledText]) { blocks.append(Block(lines: lines, priority: priority)) }
        func add(_ priority: CallPaneView.Priority, _ text: StyledText) { add(priority, text.wrapped(to: width)) }
        func add(_ priority: CallPaneView.Priority, _ label: String, _ value: StyledText) {
            add(priority, TextFormat.labelled(label, value, labelWidth: labelWidth, width: width))
        }
        let spacer = [StyledText()]

        add(.essential, StyledText("Group call · # \(call.groupName)", .bold))
        add(.spacing, spacer)
        add(.essential, "Path", StyledText("SFU", .bold) + " — DTLS-SRTP to the server, SFrame end-to-end")
        add(.essential, "State", stateText(call))
        add(.essential, "Your key", keyText(call))
        add(.spacing, spacer)

        let nameWidth = min(
            CallPaneView.maxMeterNameWidth,
            (call.participants.map(\.shortName.count) + call.invited.map(\.shortName.count)).max() ?? 0)
        if !call.phase.isActive {
            // Over: who was there, without meters that would read as live.
            let names = call.participants.map(\.shortName)
            add(
                .useful,
                StyledText("In the call when you left: ", .bold) + StyledText(names.isEmpty ? "nobody else" : names.joined(separator: ", "))
            )
        } else {
            add(.useful, StyledText("In the call (\(call.participants.count) besides you)", .bold))
            if call.participants.isEmpty { add(.essential, StyledText("nobody else yet", .dim)) }
            for participant in call.participants {
                add(.essential, [row(participant, nameWidth: nameWidth, width: width)])
            }
        }
        if !call.invited.isEmpty, call.phase.isActive {
            add(.spacing, spacer)
            add(.useful, [StyledText("Not in the call", .bold)] + call.invited.map { invitedRow($0, nameWidth: nameWidth, width: width) })
        }
        if call.muted, call.phase.isActive {
            add(.spacing, spacer)
            add(.essential, StyledText("MUTED — sending silence", .warning))
        }
        if call.keysWiped {
            add(.spacing, spacer)
            add(.essential, StyledText("keys wiped ✓ (every sender key of the call)", .good))
        }
        return blocks
    }

    /// "connected  01:23", "joining…", "ended: Tone Alto removed you from Bot Choir".
    static func stateText(_ call: GroupCallView) -> StyledText {
        switch call.phase {
        case .joining: StyledText("joining…")
        case .connected:
            StyledText("connected") + (call.elapsedSeconds.map { "  " + StyledText(TextFormat.timer($0), .bold) } ?? StyledText())
        case let .ended(reason): StyledText("ended" + (reason.map { ": \($0)" } ?? ""))
        }
    }

    /// "epoch 2 · 2 rekeys (last: a member left)", or that no key is in use yet.
    static func keyText(_ call: GroupCallView) -> StyledText {
        guard let epoch = call.epoch else { return StyledText("no sender key yet", .dim) }
        let count = "\(call.rekeys) rekey\(call.rekeys == 1 ? "" : "s")"
        var text = StyledText("epoch \(epoch)", .bold) + StyledText(" · " + count)
        if let cause = call.lastRekeyCause { text += StyledText(" (last: \(cause))") }
        return text
    }

    /// "Tone Alto  ████░░░░  -20.1 dBFS  hearing": the bar from the 1:1 pane, then the verdict
    /// in words, so it reads without colour.
    static func row(_ participant: GroupParticipantRow, nameWidth: Int, width: Int) -> StyledText {
        let status = participant.heard ? StyledText("hearing", .good) : StyledText("not heard", .warning)
        let meter = CallPaneView.meter(
            name: participant.shortName, nameWidth: nameWidth, level: participant.level ?? -.infinity,
            width: width - statusWidth - 2)
        return (meter + "  " + status).truncated(to: width)
    }

    /// "Carol  invited, has key": a member rung (or offline) who is not in the room.
    static func invitedRow(_ member: GroupInvitedRow, nameWidth: Int, width: Int) -> StyledText {
        let status = member.hasKey ? StyledText("invited, has key") : StyledText("invited", .dim)
        return (StyledText(member.shortName).truncated(to: nameWidth).padded(to: nameWidth) + "  " + status).truncated(to: width)
    }
}
