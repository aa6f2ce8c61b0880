/// The right pane during and after a meeting: its link alone on a line (to copy with the
/// mouse), that it is cloud-encrypted — the server can access it, so no end-to-end badge — who
/// hosts, the state and timer, REC while the server records, who knocks (the host's view), a
/// level meter and "hearing"/"not heard" for everyone else inside, and the wipe at the end.
enum MeetingPaneView {
    typealias Block = CallPaneView.Block
    static let labelWidth = CallPaneView.labelWidth
    static let statusWidth = GroupCallPaneView.statusWidth
    /// The words every meeting screen shows in place of an end-to-end badge.
    static let cloudEncrypted = "cloud-encrypted: the server can access this meeting"

    /// With cameras on, the tiles come under the title (`GroupTilesView`).
    static func lines(_ state: TUIState, width: Int, height: Int = .max, colours: ColourDepth = .none) -> [StyledText] {
        guard let meeting = state.meeting else {
            return .wrapping(
                [StyledText("No meeting", .bold), "", "Press n to make a meeting, or J to join one with its link."],
                to: width)
        }
        let tiles = meeting.video.map { meeting.isInside ? GroupTilesView.tiles(meeting, video: $0) : [] } ?? []
        return GroupTilesView.pane(blocks(meeting, width: width), tiles: tiles, width: width, height: height, colours: colours)
    }

    static func blocks(_ meeting: MeetingView, width: Int) -> [Block] {
        var blocks: [Block] = []
        func add(_ priority: CallPaneView.Priority, _ lines: [StyledText]) { blocks.append(Block(lines: lines, priority: priority)) }
        func add(_ priority: CallPaneView.Priority, _ text: StyledText) { add(priority, text.wrapped(to: width)) }
        func add(_ priority: CallPaneView.Priority, _ label: String, _ value: StyledText) {
            add(priority, TextFormat.labelled(label, value, labelWidth: labelWidth, width: width))
        }
        let spacer = [StyledText()]

        add(.essential, StyledText("Meeting" + (meeting.code.map { " · \($0)" } ?? ""), .bold))
        if meeting.recording, meeting.phase.isActive {
            add(.essential, StyledText("● REC", .danger) + StyledText(" the server is recording this meeting", .danger))
        }
        add(.spacing, spacer)
        if let link = meeting.link {
            add(.essential, linkLines(link, width: width))
            if meeting.isHost, meeting.phase.isActive {
                add(.useful, StyledText("share this link; people knock and you let them in", .dim))
            }
        } else {
            add(.essential, StyledText("asking the server for a link…", .dim))
        }
        add(.spacing, spacer)
        add(.essential, "Media", StyledText("cloud-encrypted", .warning) + ": the server can access this meeting")
        add(.detail, "", StyledText("DTLS-SRTP between each device and the server", .dim))
        if let host = hostText(meeting) { add(.essential, "Host", host) }
        add(.essential, "State", stateText(meeting))

        if meeting.isHost, meeting.phase.isActive, !meeting.knocking.isEmpty {
            add(.spacing, spacer)
            let names = meeting.knocking.map(\.shortName).joined(separator: ", ")
            add(.essential, StyledText("Knocking: ", .warning) + StyledText(names, .bold) + StyledText(" — a answers", .dim))
        }

        let nameWidth = min(CallPaneView.maxMeterNameWidth, meeting.participants.map(\.label.count).max() ?? 0)
        if !meeting.phase.isActive {
            let names = meeting.participants.map(\.label)
            if !names.isEmpty {
                add(.spacing, spacer)
                add(.useful, StyledText("In the meeting when it ended: ", .bold) + StyledText(names.joined(separator: ", ")))
            }
        } else if meeting.isInside {
            add(.spacing, spacer)
            add(.useful, StyledText("In the meeting (\(meeting.participants.count) besides you)", .bold))
            if meeting.participants.isEmpty { add(.essential, StyledText("nobody else yet", .dim)) }
            for participant in meeting.participants {
                add(.essential, [row(participant, nameWidth: nameWidth, width: width)])
            }
        }
        if meeting.muted, meeting.phase.isActive {
            add(.spacing, spacer)
            add(.essential, StyledText("MUTED — sending silence", .warning))
        }
        if meeting.keysWiped {
            add(.spacing, spacer)
            add(.essential, StyledText("keys wiped ✓ (the meeting's DTLS-SRTP keys)", .good))
        }
        return blocks
    }

    /// The link whole on one line; a link wider than the pane is cut into pieces (never at a
    /// word), so nothing of it is lost.
    static func linkLines(_ link: String, width: Int) -> [StyledText] {
        guard width > 0 else { return [] }
        let characters = Array(link)
        return stride(from: 0, to: characters.count, by: width).map {
            StyledText(String(characters[$0..<min($0 + width, characters.count)]), .bold)
        }
    }

    /// "you", "Bob (+15550002)" or "Frank (guest)"; nil while knocking (nobody says who hosts
    /// until you are in).
    static func hostText(_ meeting: MeetingView) -> StyledText? {
        if meeting.isHost { return StyledText("you") }
        guard let host = meeting.participants.first(where: \.isHost) else { return nil }
        return StyledText(host.guest ? "\(host.name) (guest)" : host.name == host.id ? host.id : "\(host.name) (\(host.id))")
    }

    /// "connected  01:23", "waiting for the host to let you in…", "ended: the host left, …".
    static func stateText(_ meeting: MeetingView) -> StyledText {
        switch meeting.phase {
        case .starting: StyledText(meeting.isHost ? "making the meeting…" : "knocking…")
        case .waiting: StyledText("waiting for the host to let you in…", .warning)
        case .joining: StyledText("inside; connecting the media leg…")
        case .connected:
            StyledText("connected") + (meeting.elapsedSeconds.map { "  " + StyledText(TextFormat.timer($0), .bold) } ?? StyledText())
        case let .ended(reason): StyledText("ended" + (reason.map { ": \($0)" } ?? ""))
        }
    }

    /// "Frank (guest)  ████░░░░  -20.1 dBFS  hearing".
    static func row(_ participant: MeetingParticipantRow, nameWidth: Int, width: Int) -> StyledText {
        let status = participant.heard ? StyledText("hearing", .good) : StyledText("not heard", .warning)
        let meter = CallPaneView.meter(
            name: participant.label, nameWidth: nameWidth, level: participant.level ?? -.infinity,
            width: width - statusWidth - 2)
        return (meter + "  " + status).truncated(to: width)
    }
}
