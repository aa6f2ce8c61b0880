import DuetClient
import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetServer

/// Meetings over signaling (docs/meetings.md): a host creates, registered devices and guests knock,
/// the host admits or denies, unknown codes are refused like denials, guesses are limited,
/// and the host leaving ends the meeting.
@Suite("Meetings over signaling")
struct MeetingSignalingTests {
    struct Person {
        let connection: ServerConnection
        let events: EventRecorder
        let fingerprint: DTLSFingerprint
        let ssrc = UInt32.random(in: 1...UInt32.max)
    }

    /// A device with a fresh DTLS certificate; registered as `number` unless it is a guest.
    func person(_ number: String?, on server: TestServer) async throws -> Person {
        let device = TestDevice()
        let (connection, events) = try await device.connect(to: server)
        if let number { try await device.register(connection, as: number) }
        return Person(connection: connection, events: events, fingerprint: try DTLSCertificate().fingerprint)
    }

    func closed(_ person: Person, _ code: String) async -> String? {
        let event = await person.events.waitFor { if case let .meetingClosed(closed) = $0 { closed.code == code } else { false } }
        if case let .meetingClosed(closed) = event { return closed.reason }
        return nil
    }

    /// A guest's leg may need the relay as much as anyone's (its network lets no UDP out): it
    /// gets relay credentials for the meeting it is in, under its guest id, and for nothing else.
    @Test func aGuestGetsRelayCredentialsOnlyForTheMeetingItIsIn() async throws {
        let server = try await TestServer.start()
        let host = try await person("+15556011", on: server)
        let guest = try await person(nil, on: server)
        let meeting = try await host.connection.createMeeting(
            open: true, record: false, name: "Ann", dtlsFingerprint: host.fingerprint, ssrc: host.ssrc)
        await expectServerError(.notRegistered) { _ = try await guest.connection.relayCredentials(callID: meeting.code) }
        let entry = try await guest.connection.joinMeeting(
            code: meeting.code, name: "Visitor", dtlsFingerprint: guest.fingerprint, ssrc: guest.ssrc)
        guard case let .joined(inside) = entry, let id = inside.you else {
            Issue.record("the guest is not in: \(entry)")
            return
        }
        let credentials = try await guest.connection.relayCredentials(callID: meeting.code)
        #expect(credentials.username.hasSuffix(":\(meeting.code):\(id)") && id.hasPrefix("guest-"), "\(credentials)")
        await expectServerError(.notRegistered) { _ = try await guest.connection.relayCredentials(callID: "another-call") }
    }

    @Test func hostAdmitsOneDeniesAnotherAndAGuestWaitsLikeAnyone() async throws {
        let server = try await TestServer.start()
        let host = try await person("+15556001", on: server)
        let bob = try await person("+15556002", on: server)
        let carol = try await person("+15556003", on: server)
        let guest = try await person(nil, on: server)

        let meeting = try await host.connection.createMeeting(
            open: false, record: false, name: "Ann", dtlsFingerprint: host.fingerprint, ssrc: host.ssrc)
        #expect(meeting.code.count == 12 && meeting.code.split(separator: "-").map(\.count) == [3, 4, 3])
        #expect(meeting.host == "+15556001" && meeting.participants.map(\.name) == ["Ann"])
        #expect(meeting.media != nil && meeting.mediaFingerprint != nil && meeting.you == "+15556001")

        // Bob knocks: he waits, the host sees him at the door, admits him; both are told.
        let entry = try await bob.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: bob.fingerprint, ssrc: bob.ssrc)
        #expect(entry == .waiting(code: meeting.code))
        let knock = await host.events.waitFor {
            if case let .meetingChanged(change) = $0 { change.meeting.knocking.map(\.id) == ["+15556002"] } else { false }
        }
        #expect(knock != nil)
        _ = try await host.connection.admitToMeeting(code: meeting.code, participant: "+15556002", admit: true)
        let admitted = await bob.events.waitFor { if case .meetingAdmitted = $0 { true } else { false } }
        guard case let .meetingAdmitted(inside) = admitted else {
            Issue.record("bob was not admitted")
            return
        }
        #expect(inside.participants.map(\.id) == ["+15556001", "+15556002"] && inside.media != nil && inside.knocking.isEmpty)
        #expect(inside.participants.last?.ssrc == bob.ssrc)

        // A guest must name itself, then knocks like anyone; Carol is denied.
        await expectServerError(.invalidGroup) {
            _ = try await guest.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: guest.fingerprint, ssrc: guest.ssrc)
        }
        #expect(
            try await guest.connection.joinMeeting(
                code: meeting.code, name: "Visitor", dtlsFingerprint: guest.fingerprint, ssrc: guest.ssrc)
                == .waiting(code: meeting.code))
        #expect(
            try await carol.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: carol.fingerprint, ssrc: carol.ssrc)
                == .waiting(code: meeting.code))
        let door = await host.events.waitFor {
            if case let .meetingChanged(change) = $0 { change.meeting.knocking.count == 2 } else { false }
        }
        guard case let .meetingChanged(change) = door else {
            Issue.record("the host did not see two knocks")
            return
        }
        let visitor = try #require(change.meeting.knocking.first { $0.guest })
        #expect(visitor.name == "Visitor" && visitor.id.hasPrefix("guest-"))
        _ = try await host.connection.admitToMeeting(code: meeting.code, participant: visitor.id, admit: true)
        let denied = try await host.connection.admitToMeeting(code: meeting.code, participant: "+15556003", admit: false)
        #expect(denied.participants.map(\.id) == ["+15556001", "+15556002", visitor.id] && denied.knocking.isEmpty)
        #expect(await closed(carol, meeting.code) == MeetingSignaling.notAdmittedReason)

        // Only the host admits; anyone inside may record, and everyone sees it.
        await expectServerError(.unknownMeeting) {
            _ = try await bob.connection.admitToMeeting(code: meeting.code, participant: "x", admit: true)
        }
        _ = try await bob.connection.recordMeeting(code: meeting.code, on: true)
        let rec = await guest.events.waitFor { if case let .meetingChanged(change) = $0 { change.meeting.recording } else { false } }
        #expect(rec != nil)

        // The host leaves: the meeting ends for everyone.
        try await host.connection.leaveMeeting(code: meeting.code)
        #expect(await closed(bob, meeting.code) == MeetingSignaling.hostLeftReason)
        #expect(await closed(guest, meeting.code) == MeetingSignaling.hostLeftReason)
        for person in [host, bob, carol, guest] { await person.connection.close() }
        try await server.stop()
    }

    /// Everyone in a meeting maps streams to people by announced SSRC, so a second
    /// announcement of one would let its maker speak as someone else; one next to it would
    /// take the other's video SSRC (their voice's plus one), or give away its own.
    @Test func anSSRCSomeoneInTheMeetingAnnouncedIsRefused() async throws {
        let server = try await TestServer.start()
        let host = try await person("+15556011", on: server)
        let bob = try await person("+15556012", on: server)
        let meeting = try await host.connection.createMeeting(
            open: true, record: false, name: "Ann", dtlsFingerprint: host.fingerprint, ssrc: host.ssrc)
        for taken in [host.ssrc, host.ssrc &+ 1, host.ssrc &- 1] {
            await expectServerError(.notPermitted) {
                _ = try await bob.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: bob.fingerprint, ssrc: taken)
            }
        }
        let entry = try await bob.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: bob.fingerprint, ssrc: bob.ssrc)
        guard case let .joined(inside) = entry else {
            Issue.record("bob was not let in: \(entry)")
            return
        }
        #expect(inside.participants.map(\.ssrc) == [host.ssrc, bob.ssrc])
        // The same device joining again (it reconnected) keeps its own SSRC.
        let again = try await bob.connection.joinMeeting(code: meeting.code, name: nil, dtlsFingerprint: bob.fingerprint, ssrc: bob.ssrc)
        guard case let .joined(rejoined) = again else {
            Issue.record("bob could not join again: \(again)")
            return
        }
        #expect(rejoined.participants.map(\.ssrc) == [host.ssrc, bob.ssrc])
        for person in [host, bob] { await person.connection.close() }
        try await server.stop()
    }

    /// Nobody waits at a door forever: an unanswered knock is turned away after the server's
    /// knock timeout, and leaves the host's door list; a second knock gets a timer of its own.
    @Test func aKnockNobodyAnswersIsTurnedAway() async throws {
        let server = try await TestServer.start(knockTimeout: .seconds(2))
        let host = try await person("+15556021", on: server)
        let guest = try await person(nil, on: server)
        let meeting = try await host.connection.createMeeting(
            open: false, record: false, name: "Ann", dtlsFingerprint: host.fingerprint, ssrc: host.ssrc)
        let knocked = ContinuousClock.now
        #expect(
            try await guest.connection.joinMeeting(
                code: meeting.code, name: "Visitor", dtlsFingerprint: guest.fingerprint, ssrc: guest.ssrc)
                == .waiting(code: meeting.code))
        let seen = await host.events.waitFor {
            if case let .meetingChanged(change) = $0 { !change.meeting.knocking.isEmpty } else { false }
        }
        guard case let .meetingChanged(change) = seen, let guestID = change.meeting.knocking.first?.id else {
            Issue.record("the host did not see the knock")
            return
        }
        // Knocking again a second later replaces the first knock and its timer.
        try await Task.sleep(for: .seconds(1))
        #expect(
            try await guest.connection.joinMeeting(
                code: meeting.code, name: "Visitor", dtlsFingerprint: guest.fingerprint, ssrc: guest.ssrc)
                == .waiting(code: meeting.code))
        let reason = await closed(guest, meeting.code)
        #expect(reason == MeetingSignaling.knockTimedOutReason(.seconds(2)))
        #expect(ContinuousClock.now - knocked >= .seconds(3), "the first knock's timer turned away the second knock")
        let door = await host.events.waitFor { if case let .meetingChanged(change) = $0 { change.meeting.knocking.isEmpty } else { false } }
        #expect(door != nil, "the host still sees the knock")
        // Turned away means out: the host can no longer admit it.
        await expectServerError(.unknownMeeting) {
            _ = try await host.connection.admitToMeeting(code: meeting.code, participant: guestID, admit: true)
        }
        for person in [host, guest] { await person.connection.close() }
        try await server.stop()
    }

    @Test func unknownCodesAreRefusedLikeDenialsAndGuessesAreLimited() async throws {
        let server = try await TestServer.start()
        let guesser = try await person(nil, on: server)
        // A well-formed code nobody made: waiting, then the very words a denial gets.
        let entry = try await guesser.connection.joinMeeting(
            code: "abc-defg-hij", name: "Guesser", dtlsFingerprint: guesser.fingerprint, ssrc: 1)
        #expect(entry == .waiting(code: "abc-defg-hij"))
        #expect(await closed(guesser, "abc-defg-hij") == MeetingSignaling.notAdmittedReason)
        // A burst of guesses from one address runs out.
        var limited = false
        for attempt in 0..<20 {
            do {
                let guess = "zzz-zzzz-zz" + String(Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(attempt))))
                _ = try await guesser.connection.joinMeeting(code: guess, name: "Guesser", dtlsFingerprint: guesser.fingerprint, ssrc: 1)
            } catch {
                guard case let .server(code, message) = error, code == .rateLimited else {
                    Issue.record("a guess failed otherwise than by the rate limit: \(error)")
                    break
                }
                limited = true
                #expect(message.contains("try again in"))
                break
            }
        }
        #expect(limited, "20 guesses in a row were never limited")
        await guesser.connection.close()
        try await server.stop()
    }
    /// A guesser cannot reset the limit with new keys or new connections: it counts per source
    /// address, and every attempt costs the same, so once spent even the right code is refused
    /// (the refusal says nothing about whether a guess was right).
    @Test func guessesFromFreshKeysAndConnectionsShareOneLimit() async throws {
        let server = try await TestServer.start()
        let host = try await person("+15556051", on: server)
        let meeting = try await host.connection.createMeeting(
            open: true, record: false, name: "Host", dtlsFingerprint: host.fingerprint, ssrc: host.ssrc)
        // Connect first (a connection costs nothing), then guess: one guess per fresh guest key.
        var guessers: [Person] = []
        for _ in 0..<9 { guessers.append(try await person(nil, on: server)) }
        for (attempt, guesser) in guessers.prefix(8).enumerated() {
            let guess = "qqq-qqqq-qq" + String(Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(attempt))))
            let entry = try await guesser.connection.joinMeeting(
                code: guess, name: "G\(attempt)", dtlsFingerprint: guesser.fingerprint, ssrc: 1)
            #expect(entry == .waiting(code: guess))
        }
        do {
            let last = guessers[8]
            _ = try await last.connection.joinMeeting(code: meeting.code, name: "Lucky", dtlsFingerprint: last.fingerprint, ssrc: 1)
            Issue.record("the ninth attempt from one address got through, with the right code")
        } catch {
            guard case let .server(code, message) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(code == .rateLimited)
            #expect(message.contains("try again in"), "\(message)")
        }
        for person in guessers + [host] { await person.connection.close() }
        try await server.stop()
    }

    /// The bucket itself: 8 at once per address, then one per 6 s; other addresses untouched.
    /// An hour of non-stop guessing from one address gets at most 8 + 600 tries.
    @Test func theJoinLimitRefillsOneAttemptEverySixSecondsPerAddress() {
        let limiter = RateLimiter(burst: 8, refill: .seconds(6))
        let start = ContinuousClock.now
        for _ in 0..<8 { #expect(limiter.attempt(from: "198.51.100.7", now: start) == nil) }
        #expect(limiter.attempt(from: "198.51.100.7", now: start) == 6)
        #expect(limiter.attempt(from: "203.0.113.9", now: start) == nil, "another address has its own bucket")
        #expect(limiter.attempt(from: "198.51.100.7", now: start + .seconds(5)) != nil)
        #expect(limiter.attempt(from: "198.51.100.7", now: start + .milliseconds(6500)) == nil)
        var allowed = 0
        for second in 0..<3600 where limiter.attempt(from: "192.0.2.1", now: start + .seconds(second)) == nil { allowed += 1 }
        #expect(allowed <= 8 + 600, "\(allowed) attempts in an hour")
    }
}
