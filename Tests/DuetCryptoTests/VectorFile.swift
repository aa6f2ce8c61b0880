import Foundation

/// Reads the RFC vector files copied into this test target (they must travel with a clone).
enum VectorFile {
    static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Vectors/\(name)"])
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

extension Array where Element == UInt8 {
    init(hex: some StringProtocol) {
        let digits: [Character] = hex.filter { !$0.isWhitespace }.map { $0 }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            let pair: String = String(digits[i]) + String(digits[i + 1])
            bytes.append(UInt8(pair, radix: 16)!)
        }
        self = bytes
    }

    var hex: String { map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}
