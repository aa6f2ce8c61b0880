import Foundation

/// Reads the RFC vector files copied into this test target (they travel with a clone).
/// Named apart from other test helpers in this target so they never collide.
enum SFrameVectorFile {
    static func data(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Vectors/\(name)"])
        }
        return try Data(contentsOf: url)
    }
}

/// Hex ↔ bytes for the secure-media tests (SRTP and SFrame vectors are printed in hex).
enum SecureHex {
    static func bytes(_ hex: some StringProtocol) -> [UInt8] {
        let digits = hex.filter { !$0.isWhitespace }.map { $0 }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
