import Foundation
import Testing

@testable import DuetClient
@testable import DuetTUI

@Suite("Screen renderer")
struct ScreenRendererTests {
    static let sizes = [(80, 24), (81, 25), (90, 28), (100, 30), (120, 40), (133, 41), (160, 50), (200, 60)]

    /// States chosen to break a renderer: long and hostile names, hundreds of contacts, the
    /// selection out of range, every pane and overlay, empty everything.
    static var awkwardStates: [TUIState] {
        let hostile = Fixtures.awkwardNames.enumerated().map { index, name in
            ContactRow(
                number: "+1555\(2000 + index)", name: name,
                trust: [ContactTrust.verified(at: Fixtures.verifiedAt), .unverified, .keyChanged(at: Fixtures.changedAt)][index % 3],
                online: [true, false, nil][index % 3], note: name)
        }
        let many = (0..<200).map {
            ContactRow(
                number: "+1555\(3000 + $0)", name: $0 % 5 == 0 ? nil : "Contact \($0) \(Fixtures.longName)",
                trust: $0 % 4 == 0 ? .keyChanged(at: Fixtures.changedAt) : .unverified, online: $0 % 3 == 0)
        }
        let long = Fixtures.longName
        var states = GoldenCase.all.map(\.state)
        for contacts in [hostile, many, [], Fixtures.contacts] {
            for selected in [-5, 0, 7, 150, 199, 1000] {
                for pane in [TUIState.Pane.contact, .safetyNumber, .keys, .call, .groupCall] {
                    var state = Fixtures.base
                    state.contacts = contacts
                    state.selected = selected
                    state.pane = pane
                    state.showLog = selected.isMultiple(of: 2)
                    states.append(state)
                }
            }
        }
        states.append(
            Fixtures.with {
                $0.profile = long
                $0.ownName = long
                $0.ownNumber = long
                $0.ownFingerprintShort = long
                $0.server = ServerStatus(address: long, state: .failed(long), embedded: true)
                $0.message = StatusMessage(long + long, severity: .error)
                $0.contacts = hostile
                $0.showLog = true
                $0.log = (0..<300).map {
                    LogEntry(
                        time: "\($0)", text: Fixtures.awkwardNames[$0 % Fixtures.awkwardNames.count] + long,
                        severity: [.info, .good, .warning, .error][$0 % 4])
                }
            })
        let odd = ContactRow(number: long, name: long, trust: .keyChanged(at: Fixtures.changedAt), online: nil, note: long)
        states.append(
            Fixtures.with {
                $0.pane = .call
                $0.call = Fixtures.connectedCall
                $0.call?.peerName = long
                $0.call?.peerNumber = long
                $0.call?.sas = long
                $0.call?.cipher = long
                $0.call?.warning = long
                $0.call?.elapsedSeconds = 1_000_000
                $0.call?.muted = true
                $0.call?.keysWiped = true
                $0.call?.hearing = HearingReport(
                    speaker: long, level: .infinity, lossPercent: .nan, jitterMilliseconds: -1e300,
                    tamperedPackets: Int.max, replayedPackets: 5)
            })
        states.append(
            Fixtures.with {
                $0.pane = .call
                $0.call = Fixtures.connectedCall
                $0.call?.hearing?.level = -.infinity
            })
        states.append(
            Fixtures.with {
                $0.pane = .call
                $0.call = Fixtures.connectedCall
                $0.call?.hearing?.level = 12
            })
        states.append(
            Fixtures.inGroupCall {
                $0.groupCall?.groupName = long
                $0.groupCall?.phase = .ended(reason: long)
                $0.groupCall?.elapsedSeconds = 1_000_000
                $0.groupCall?.epoch = .max
                $0.groupCall?.rekeys = .max
                $0.groupCall?.lastRekeyCause = long
                $0.groupCall?.keysWiped = true
                $0.groupCall?.participants = (0..<40).map {
                    GroupParticipantRow(
                        number: long + "\($0)", name: $0 % 3 == 0 ? nil : Fixtures.awkwardNames[$0 % Fixtures.awkwardNames.count],
                        heard: $0 % 2 == 0, level: [nil, .infinity, -.infinity, .nan, 3, -200][$0 % 6])
                }
                $0.groupCall?.invited = (0..<30).map {
                    GroupInvitedRow(number: long + "\($0)", name: $0 % 2 == 0 ? long : nil, hasKey: $0 % 3 == 0)
                }
            })
        states.append(Fixtures.with { $0.pane = .groupCall })
        states.append(
            Fixtures.with {
                $0.pane = .safetyNumber
                $0.safetyNumber = SafetyNumberView(contact: odd, groups: [])
            })
        states.append(
            Fixtures.with {
                $0.pane = .safetyNumber
                $0.safetyNumber = SafetyNumberView(contact: odd, groups: [long, "1", "22"])
            })
        states.append(
            Fixtures.with {
                $0.pane = .keys
                $0.keys = KeysView(fingerprint: long, oneTimePrekeys: -1, signedPrekeyID: .max, signedPrekeyAge: long)
            })
        for overlay: TUIState.Overlay in [
            .help, .incoming(IncomingCall(number: long, name: long, trust: .keyChanged(at: Fixtures.changedAt))),
            .addContact(AddContactPrompt(number: long, name: long, field: .name, error: long + long)),
            .addContact(AddContactPrompt(number: long + long, field: .number)),
            .confirmRemove(odd), .keyChangedWarning(odd),
            .incomingGroupCall(IncomingGroupCall(callID: long, groupName: long, participants: [long, long], memberCount: -1)),
            .createGroup(CreateGroupPrompt(name: long, members: long + long, field: .members, error: long)),
            .groupMember(
                GroupMemberPrompt(
                    action: .remove, groupID: long, groupName: long, number: long,
                    choices: (0..<20).map { .init(number: long + "\($0)", name: $0 % 2 == 0 ? long : nil) },
                    error: long))
        ] {
            states.append(
                Fixtures.with {
                    $0.overlay = overlay
                    $0.contacts = many
                    $0.selected = 120
                })
        }
        return states
    }

    @Test(arguments: sizes + [(79, 24), (80, 23), (40, 10), (10, 3), (1, 1), (0, 0), (-3, -3), (500, 5)])
    func everyLineIsExactlyTheWidth(size: (Int, Int)) {
        let (width, height) = size
        for (index, state) in Self.awkwardStates.enumerated() {
            let screen = ScreenRenderer.render(state, width: width, height: height)
            #expect(screen.lines.count == max(0, height), "state \(index) at \(width)×\(height)")
            for (row, line) in screen.lines.enumerated() where line.text.count != max(0, width) {
                Issue.record("state \(index) at \(width)×\(height), row \(row) is \(line.text.count) wide: \(line.text)")
            }
            for line in screen.lines {
                #expect(line.columns.count == max(0, width))
                #expect(!line.text.unicodeScalars.contains { $0.properties.generalCategory == .control })
            }
        }
    }

    @Test func belowTheMinimumOnlyAMessageIsShown() {
        let screen = ScreenRenderer.render(Fixtures.base, width: 79, height: 30)
        let message = screen.text.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(message.map { $0.trimmingCharacters(in: .whitespaces) } == ["duet needs at least 80×24 (now 79×30)"])
        #expect(ScreenRenderer.render(Fixtures.base, width: 80, height: 23).joinedText.contains("(now 80×23)"))
    }

    @Test(arguments: [0, 1, 37, 100, 198, 199, 250, -1])
    func theSelectedContactIsVisibleWhenScrolled(selected: Int) {
        let contacts = (0..<200).map { ContactRow(number: "+1555\(5000 + $0)", name: "Person \($0)", trust: .unverified, online: true) }
        let state = Fixtures.with {
            $0.contacts = contacts
            $0.selected = selected
        }
        let expected = min(max(selected, 0), 199)
        for (width, height) in Self.sizes {
            let screen = ScreenRenderer.render(state, width: width, height: height)
            let highlighted = screen.lines.enumerated().filter { $0.element.text.hasPrefix("▌") }
            #expect(highlighted.count == 1)
            #expect(highlighted.first?.element.text.contains("Person \(expected) ") == true)
            #expect(highlighted.first?.element.runs.first?.style == .reverse)
        }
    }

    @Test func scrollOffsetKeepsTheSelectionInTheMiddleAndTheListFull() {
        #expect(ContactListView.scrollOffset(count: 5, selected: 4, visible: 20) == 0)
        #expect(ContactListView.scrollOffset(count: 100, selected: 0, visible: 20) == 0)
        #expect(ContactListView.scrollOffset(count: 100, selected: 50, visible: 20) == 40)
        #expect(ContactListView.scrollOffset(count: 100, selected: 99, visible: 20) == 80)
        #expect(ContactListView.scrollOffset(count: 100, selected: 99, visible: 0) == 0)
        for selected in 0..<100 {
            let first = ContactListView.scrollOffset(count: 100, selected: selected, visible: 7)
            #expect((first..<(first + 7)).contains(selected))
        }
    }

    @Test func keyChangedIsWrittenOnTheContactRowAtEightyColumns() {
        let shortName = ContactRow(number: "+15550004", name: "Dave", trust: .keyChanged(at: Fixtures.changedAt), online: true)
        let longName = ContactRow(number: "+15550004", name: Fixtures.longName, trust: .keyChanged(at: Fixtures.changedAt), online: false)
        for contact in [shortName, longName] {
            for selected in [0, 1] {
                let state = Fixtures.with {
                    $0.contacts = [contact, Fixtures.bob]
                    $0.selected = selected
                }
                let screen = ScreenRenderer.render(state, width: 80, height: 24)
                let row = screen.lines[2]
                let listPart = String(row.text.prefix(Layout.minimumListWidth))
                #expect(listPart.contains("KEY CHANGED"), "row: \(row.text)")
            }
        }
    }

    @Test func keyChangedIsAlwaysStyledAsDanger() {
        var states = [
            Fixtures.base, Fixtures.with { $0.selected = 2 },
            Fixtures.with {
                $0.selected = 2
                $0.pane = .safetyNumber
                $0.safetyNumber = SafetyNumberView(contact: Fixtures.dave, groups: Fixtures.groups)
            }
        ]
        states += GoldenCase.all.map(\.state)
        var seen = 0
        for state in states {
            for line in ScreenRenderer.render(state, width: 80, height: 24).lines {
                for styles in line.styles(of: "KEY CHANGED") {
                    seen += 1
                    #expect(styles.allSatisfy { $0 == .danger }, "\(line.text)")
                }
            }
        }
        #expect(seen > 10)
    }

    @Test func trustReadsWithoutColour() {
        let text = [0, 1, 2].map { selected in
            ScreenRenderer.render(Fixtures.with { $0.selected = selected }, width: 80, height: 24).joinedText
        }.joined(separator: "\n")
        #expect(text.contains("✓ verified"))
        #expect(text.contains("unverified"))
        #expect(text.contains("KEY CHANGED"))
        let incoming = ScreenRenderer.render(
            Fixtures.with {
                $0.overlay = .incoming(IncomingCall(number: "+15550004", name: "Dave", trust: .keyChanged(at: Fixtures.changedAt)))
            }, width: 80, height: 24
        ).joinedText
        #expect(incoming.contains("KEY CHANGED"))
        let call = ScreenRenderer.render(
            Fixtures.with {
                $0.pane = .call
                $0.call = Fixtures.connectedCall
            }, width: 80, height: 24)
        #expect(call.joinedText.contains("✓ verified"))
    }

    @Test func theStatusBarIsReverseAcrossTheWholeRow() {
        for (width, height) in Self.sizes {
            let bar = ScreenRenderer.render(Fixtures.base, width: width, height: height).lines[0]
            #expect(bar.runs.allSatisfy { $0.style == .reverse })
            #expect(bar.text.hasPrefix(" Duet · alice · Alice +15550001 · server 127.0.0.1:7443 connected"))
        }
        let wide = ScreenRenderer.render(Fixtures.base, width: 120, height: 30).text[0]
        #expect(wide.contains("(embedded) · key 1A2B 3C4D"))
    }

    @Test func theMessageLineIsStyledBySeverity() {
        for (severity, style) in [(Severity.info, TextStyle.plain), (.good, .good), (.warning, .warning), (.error, .danger)] {
            let screen = ScreenRenderer.render(
                Fixtures.with { $0.message = StatusMessage("Saved.", severity: severity) },
                width: 80, height: 24)
            let line = screen.lines[22]
            #expect(line.text.hasPrefix(" Saved."))
            #expect(line.styles(of: "Saved.") == [Array(repeating: style, count: 6)])
        }
    }

    @Test func keyHintsFollowTheContext() {
        func hints(_ state: TUIState, width: Int = 80) -> String {
            ScreenRenderer.render(state, width: width, height: 24).text[23]
        }
        #expect(
            hints(Fixtures.base, width: 130).hasPrefix(
                " ↑↓ select  c call  s safety number  a add  d remove  g new group  "
                    + "n new meeting  J join link  K keys  l log  ? help  q quit"))
        #expect(hints(Fixtures.base, width: 100).hasPrefix(" c call  s safety number  a add  d remove  n new meeting  J join link"))
        #expect(hints(Fixtures.base).contains("c call  s safety number"))
        #expect(hints(Fixtures.base).contains("q quit"))
        #expect(
            hints(
                Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                }
            ).hasPrefix(" m mute/unmute  h hang up  l log  ? help"))
        #expect(
            hints(Fixtures.with { $0.overlay = .incoming(IncomingCall(number: "+1", name: nil, trust: .unverified)) })
                .hasPrefix(" a accept  d decline"))
        #expect(hints(Fixtures.with { $0.pane = .safetyNumber }).hasPrefix(" v verify  u unverify  Esc back"))
        #expect(hints(Fixtures.with { $0.overlay = .confirmRemove(Fixtures.bob) }).hasPrefix(" y remove  n keep"))
    }

    @Test func theLevelMeterMapsMinusSixtyToZeroOntoTheBar() {
        func filled(_ level: Double) -> Int {
            CallPaneView.meter(name: "Bob", nameWidth: 3, level: level, width: 38).string.filter { $0 == "█" }.count
        }
        // 38 columns - "Bob" - 2 gaps of 2 - an 11-column label leave 20 for the bar.
        #expect(CallPaneView.meter(name: "Bob", nameWidth: 3, level: -20.1, width: 38).string == "Bob  █████████████░░░░░░░   -20.1 dBFS")
        #expect(filled(0) == 20)
        #expect(filled(-30) == 10)
        #expect(filled(-60) == 0)
        #expect(filled(-90) == 0)
        #expect(filled(6) == 20)
        #expect(filled(-.infinity) == 0)
        #expect(filled(.nan) == 0)
    }

    @Test func aShortCallPaneKeepsWhatMatters() {
        var call = Fixtures.connectedCall
        call.muted = true
        call.warning = "keys are logged"
        call.hearing?.tamperedPackets = 2
        let state = Fixtures.with {
            $0.pane = .call
            $0.call = call
            $0.showLog = true
            $0.log = Fixtures.log
        }
        let text = ScreenRenderer.render(state, width: 80, height: 24).joinedText
        for essential in [
            "Call with Bob", "keys are logged", "✓ verified", "connected (p2p)  01:23", "SAS: oxygen",
            "-20.1 dBFS", "rejected: 2 tampered", "MUTED — sending silence", "Event log"
        ] {
            #expect(text.contains(essential), "\(essential) missing from\n\(text)")
        }
        let lines = CallPaneView.lines(state, width: 49, height: 5)
        #expect(lines.allSatisfy { !$0.isEmpty })
    }

    @Test func theEventLogShowsTheNewestEntriesThatFit() throws {
        let log = (1...50).map { LogEntry(time: "t\($0)", text: "event \($0)") }
        let screen = ScreenRenderer.render(
            Fixtures.with {
                $0.showLog = true
                $0.log = log
            }, width: 80, height: 24)
        let text = screen.joinedText
        #expect(text.contains("├─ Event log ─"))
        #expect(text.contains("t50 event 50"))
        #expect(!text.contains("t1 event 1\n") && !text.contains("event 40 "))
        let layout = try #require(Layout(width: 80, height: 24, showLog: true))
        let logRect = try #require(layout.log)
        #expect(screen.text[logRect.row + logRect.height - 1].contains("t50 event 50"))
    }
}
