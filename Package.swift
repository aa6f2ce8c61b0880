// swift-tools-version:6.1
// Duet: end-to-end encrypted calls in the terminal. Layers (DESIGN §1) point down only:
// duet → DuetTUI/DuetDemo → DuetClient/DuetServer → DuetMedia → DuetCrypto/DuetWire → C.
import PackageDescription

/// A system library target over a Debian -dev package, found through pkg-config.
func systemLibrary(_ name: String, pkgConfig: String, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

let package = Package(
    name: "Duet",
    products: [
        .executable(name: "duet", targets: ["duet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        systemLibrary("CSodium", pkgConfig: "libsodium", apt: ["libsodium-dev"]),
        systemLibrary("CSRTP", pkgConfig: "libsrtp2", apt: ["libsrtp2-dev"]),
        systemLibrary("COpus", pkgConfig: "opus", apt: ["libopus-dev"]),
        systemLibrary("CNcursesw", pkgConfig: "ncursesw", apt: ["libncurses-dev"]),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: ["libssl-dev"]),

        .target(name: "DuetWire"),
        .target(name: "DuetCrypto", dependencies: ["CSodium"]),
        .target(name: "DuetMedia", dependencies: ["DuetWire", "DuetCrypto", "CSodium", "CSRTP", "COpus"]),
        .target(name: "DuetClient", dependencies: [
            "DuetWire", "DuetCrypto", "DuetMedia",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "DuetServer", dependencies: [
            "DuetWire", "DuetCrypto",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "DuetTUI", dependencies: ["DuetClient", "CNcursesw"]),
        .target(name: "DuetDemo", dependencies: ["DuetClient", "DuetServer"]),
        .executableTarget(name: "duet", dependencies: [
            "DuetClient", "DuetServer", "DuetTUI", "DuetDemo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "duet-bench", dependencies: ["DuetCrypto", "DuetMedia", "CSRTP", "CSodium"]),

        .testTarget(name: "DuetWireTests", dependencies: ["DuetWire"]),
        .testTarget(name: "DuetCryptoTests", dependencies: ["DuetCrypto"], resources: [.copy("Vectors")]),
        .testTarget(name: "DuetMediaTests", dependencies: ["DuetMedia"], resources: [.copy("Vectors")]),
        .testTarget(name: "DuetClientTests", dependencies: ["DuetClient"]),
        .testTarget(name: "DuetServerTests", dependencies: ["DuetServer", "DuetCrypto"]),
        // Client and server together, as a user runs them: the only place both are imported.
        .testTarget(name: "DuetIntegrationTests", dependencies: ["DuetClient", "DuetServer"]),
        .testTarget(name: "duetTests", dependencies: ["duet"]),
    ]
)
