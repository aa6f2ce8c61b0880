import DuetMedia
import DuetWire
import Foundation

/// Losing the server in the middle of a group call (docs/group-calls.md). When signaling comes
/// back, the room this device was in is gone — a restarted server remembers no rooms — or
/// no longer holds it (the server saw its connection close and told the others it left).
/// Either way its SFU leg is dead. So the device enters the call again under the same call
/// id, opening the room anew when the server knows none, on a new DTLS-SRTP leg, with fresh
/// pairwise channels out, and makes a new sender key for everyone: the room may have
/// changed while nobody could say, so the new leg carries nothing under a key from before
/// the break (frames are held until the new key is active).
extension GroupCallEngine {
    func rejoin() async {
        guard let active = call, let group = room?.group else { return }
        let callID = active.callID
        // The channels are reset below and the rejoin's own rekey reaches every key holder: key
        // work queued or waiting on the server until now is stale (`ActiveCall.instance`).
        callsEntered += 1
        call?.instance = callsEntered
        let socket: MediaSocket, info: GroupCallInfo, media: SFUMedia
        do {
            socket = try await bindSocket()
        } catch {
            return await abandon(callID, because: "no socket for a new media leg: \(error)")
        }
        do {
            info = try await reenter(callID, group: group.id)
        } catch {
            socket.close()
            return await abandon(callID, because: "\(error)")
        }
        guard call?.callID == callID else {
            // Left (or removed) while the request was on its way.
            socket.close()
            _ = try? await session.connection.leaveGroupCall(callID: callID)
            return
        }
        do { media = try makeMedia(info, socket: socket) } catch {
            socket.close()
            _ = try? await session.connection.leaveGroupCall(callID: callID)
            return await abandon(callID, because: "\(error)")
        }
        call?.media.close()
        call?.media = media
        // Channels out start afresh: a member who was told this device left has forgotten the
        // old ones (a restarted server's members have not, and take a fresh header as a new one).
        call?.senders = [:]
        call?.opened = []
        call?.delivered = [:]
        call?.ssrcOwners = [:]
        // A new pump, so video starts again with it (its SSRCs are the new ones).
        startVideo()
        hearing = [:]
        report(media.start(self))
        // Members removed from the group while this device could not hear of it are forgotten
        // (keys, channels) and get nothing more; the new leg carries nothing until the new key,
        // which every key holder of the group as it is now gets, is active (`rekey`).
        await perform(machine.handle(.rejoined(info)))
    }

    /// Joins `callID` again; if the server knows no such room (it restarted), opens it under
    /// the same id — another member may open it first, and then this joins theirs.
    private func reenter(_ callID: String, group: String) async throws(ServerConnectionError) -> GroupCallInfo {
        let connection = session.connection, fingerprint = certificate.fingerprint
        do {
            return try await connection.joinGroupCall(callID: callID, dtlsFingerprint: fingerprint)
        } catch .server(code: .unknownCall, message: _) {
            do {
                return try await connection.startGroupCall(group: group, callID: callID, dtlsFingerprint: fingerprint)
            } catch .server(code: .callExists, message: _) {
                return try await connection.joinGroupCall(callID: callID, dtlsFingerprint: fingerprint)
            }
        }
    }

    /// The call cannot go on after the break (the group is gone, this device was removed, the
    /// server refuses): it ends here, keys wiped, and says why.
    private func abandon(_ callID: String, because reason: String) async {
        guard call?.callID == callID else { return }
        eventSink.yield(.notice(.warning(.server, "could not rejoin call \(callID) after reconnecting to the server: \(reason)")))
        await end(tellServer: false)
    }
}

extension GroupCallEngine {
    /// The leg's route was lost (this device moved to another network, the relay's connection
    /// closed) or its handshake finally failed: its successor takes over on a new socket, with a
    /// new DTLS handshake that replaces the old association at the SFU. The room, the sender
    /// keys and the members' channels stay as they are: only the way to the SFU changed.
    func rebuildLeg(because reason: String) async {
        guard let active = call, !active.media.rebuilding else { return }
        active.media.rebuilding = true
        defer { active.media.rebuilding = false }
        eventSink.yield(.leg("\(reason) — reconnecting media"))
        let socket: MediaSocket
        do { socket = try await bindSocket() } catch {
            return eventSink.yield(.notice(.warning(.media, "no socket for a new media leg: \(error)")))
        }
        // Left, rejoined or rebuilt meanwhile: this successor is moot.
        guard call?.callID == active.callID, let media = call?.media, media === active.media else { return socket.close() }
        let leg: ServerMediaLeg
        do { leg = try media.leg.successor(on: socket) } catch {
            socket.close()
            return eventSink.yield(.notice(.warning(.media, "a new media leg: \(error)")))
        }
        _ = machine.handle(.mediaLost)
        report(media.replaceLeg(with: leg, self))
    }
}
