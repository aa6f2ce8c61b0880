import DuetCrypto

/// The SRTP master keys one DTLS-SRTP handshake gave this endpoint (RFC 5764 §4.2).
///
/// The exporter's output is client key ‖ server key ‖ client salt ‖ server salt; libsrtp
/// wants key ‖ salt contiguous per direction, so it is regrouped into the key this endpoint
/// sends with and the key its peer sends with. All three live in `SecureBytes` and are
/// zeroed when the last reference goes, so dropping this value ends the keys.
public struct DTLSSRTPKeys: Sendable {
    /// The profile both sides agreed on in use_srtp.
    public let profile: SRTPProfile
    /// Master key ‖ salt for what this endpoint sends (its SRTP sender).
    public let localSending: SecureBytes
    /// Master key ‖ salt for what the peer sends (this endpoint's SRTP receiver).
    public let remoteSending: SecureBytes
    /// The whole exporter output, 2 × (key + salt) bytes, kept for interoperability checks
    /// (it is what `openssl s_server -keymatexport` prints) and key logs.
    public let keyingMaterial: SecureBytes
    /// The peer's certificate fingerprint: already checked against the expected one, or,
    /// from a server endpoint made without one, still to be checked by the caller.
    public let peerFingerprint: DTLSFingerprint

    /// Regroups exporter output for `profile`; `isClient` says which half is ours.
    init(profile: SRTPProfile, keyingMaterial: SecureBytes, isClient: Bool, peerFingerprint: DTLSFingerprint) {
        let keyLength = profile.masterKeyLength, saltLength = profile.masterSaltLength
        precondition(keyingMaterial.count == 2 * (keyLength + saltLength))
        /// key ‖ salt of one side (0 = client, 1 = server), copied straight between secure buffers.
        func masterKey(side: Int) -> SecureBytes {
            SecureBytes(count: keyLength + saltLength) { out in
                keyingMaterial.withUnsafeBytes { km in
                    out.baseAddress!.copyMemory(from: km.baseAddress! + side * keyLength, byteCount: keyLength)
                    (out.baseAddress! + keyLength).copyMemory(
                        from: km.baseAddress! + 2 * keyLength + side * saltLength, byteCount: saltLength)
                }
            }
        }
        self.profile = profile
        self.keyingMaterial = keyingMaterial
        self.localSending = masterKey(side: isClient ? 0 : 1)
        self.remoteSending = masterKey(side: isClient ? 1 : 0)
        self.peerFingerprint = peerFingerprint
    }

    /// The two SRTP sessions of this media leg: a sender keyed with `localSending` and a
    /// receiver keyed with `remoteSending`.
    public func makeSessions(replayWindow: Int = 128) throws(SRTPError) -> (sender: SRTPSession, receiver: SRTPSession) {
        (
            try SRTPSession(profile: profile, role: .sender, masterKey: localSending, replayWindow: replayWindow),
            try SRTPSession(profile: profile, role: .receiver, masterKey: remoteSending, replayWindow: replayWindow)
        )
    }
}

extension SRTPProfile {
    /// OpenSSL's use_srtp name (it drops the RFC's "HMAC_"; names are case-sensitive).
    var openSSLName: String {
        switch self {
        case .aesCM128HMACSHA1_80: "SRTP_AES128_CM_SHA1_80"
        case .aeadAES128GCM: "SRTP_AEAD_AES_128_GCM"
        }
    }
}
