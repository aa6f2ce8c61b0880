// swift-tools-version:6.1
// Duet: end-to-end encrypted calls in the terminal. Layers (docs/ARCHITECTURE.md "Modules") point down only:
// duet → DuetTUI/DuetDemo → DuetClient/DuetServer → DuetMedia → DuetCrypto/DuetWire → C.
import PackageDescription

/// A system library target over a Debian -dev package, found through pkg-config.
func systemLibrary(_ name: String, pkgConfig: String, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

let package = Package(
    name: "Duet",
    products: [
        .executable(name: "duet", targets: ["duet"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The server's self-signed TLS certificate (P-256); OpenSSL stays for DTLS only.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The directory of several server nodes (docs/deployment.md): PostgreSQL, LISTEN/NOTIFY.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2")
    ],
    targets: [
        systemLibrary("CSodium", pkgConfig: "libsodium", apt: ["libsodium-dev"]),
        systemLibrary("CSRTP", pkgConfig: "libsrtp2", apt: ["libsrtp2-dev"]),
        systemLibrary("COpus", pkgConfig: "opus", apt: ["libopus-dev"]),
        systemLibrary("CNcursesw", pkgConfig: "ncursesw", apt: ["libncurses-dev"]),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: ["libssl-dev"]),
        systemLibrary("CVPX", pkgConfig: "vpx", apt: ["libvpx-dev"]),
        // chafa.pc requires glib-2.0, which libchafa-dev does not pull in.
        systemLibrary("CChafa", pkgConfig: "chafa", apt: ["libchafa-dev", "libglib2.0-dev"]),
        // recvmmsg/sendmmsg, epoll and packet info for the server's media port (docs/server.md "The media port's thread").
        .target(name: "CDuetSocket"),

        // NIOCore for the signaling frame handlers both sides put in their pipelines (docs/server.md).
        .target(name: "DuetWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // swift-crypto for TURN's MD5 and HMAC-SHA1 (RFC 8656 long-term credentials), which libsodium lacks.
        .target(name: "DuetCrypto", dependencies: ["CSodium", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "DuetMedia", dependencies: ["DuetWire", "DuetCrypto", "CSodium", "CSRTP", "COpus", "COpenSSL", "CVPX"]),
        .target(
            name: "DuetClient",
            dependencies: [
                "DuetWire", "DuetCrypto", "DuetMedia",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto")
            ]),
        .target(
            name: "DuetServer",
            dependencies: [
                "DuetWire", "DuetCrypto", "DuetMedia", "CDuetSocket",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio")
            ]),
        // DuetClient alone: the TUI sees wire formats and keys only as DuetClient puts them. With
        // MemberImportVisibility the members of DuetClient's own dependencies (DuetWire, DuetCrypto)
        // are out of its reach too, not only their imports.
        .target(
            name: "DuetTUI", dependencies: ["DuetClient", "CNcursesw", "CChafa"],
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        .target(
            name: "DuetDemo",
            dependencies: [
                "DuetClient", "DuetServer", "DuetMedia", "DuetWire", "DuetCrypto", .product(name: "Logging", package: "swift-log")
            ],
            // Stories is a link to Assets/demo, where the stories live (docs/demo.md); the tour
            // is compiled in so `duet demo` needs no file beside the binary.
            resources: [.embedInCode("Stories/tour.duet")]),
        .executableTarget(
            name: "duet",
            dependencies: [
                "DuetClient", "DuetServer", "DuetTUI", "DuetDemo", "DuetWire", "DuetCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .executableTarget(
            name: "duet-bench",
            dependencies: [
                "DuetWire", "DuetCrypto", "DuetMedia", "DuetClient", "DuetServer", "DuetTUI", "CSRTP", "CSodium",
                // Namespaced hosts and the delay line for call_setup_netns_ms (docs/networking.md).
                "NetworkLab",
                // The two-node load bench's PostgreSQL (docs/deployment.md).
                "PostgresLab",
                .product(name: "Logging", package: "swift-log")
            ]),

        // The seeded mutation harness the fuzz tests of several targets share (docs/testing.md).
        .target(name: "DuetFuzzing", dependencies: ["DuetMedia", "DuetWire"], path: "Tests/DuetFuzzing"),
        // A tmpfs per test, to fill up or make read-only: real disk faults (docs/testing.md "Faults").
        .target(name: "DiskFaults", path: "Tests/DiskFaults"),
        // Hosts made of network namespaces, NAT routers made with nftables (docs/networking.md "Tested topologies").
        .target(name: "NetworkLab", dependencies: ["CNetworkLab"], path: "Tests/NetworkLab"),
        // A private PostgreSQL cluster per test process (docs/testing.md "PostgreSQL").
        .target(name: "PostgresLab", path: "Tests/PostgresLab"),
        // setns and AF_PACKET for the lab's user-space delay line (this kernel has no netem).
        .target(name: "CNetworkLab", path: "Tests/CNetworkLab"),
        .testTarget(
            name: "DuetWireTests",
            dependencies: [
                "DuetWire", "DuetFuzzing",
                // The signaling frame handlers are tested on EmbeddedChannel.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio")
            ]),
        .testTarget(name: "DuetCryptoTests", dependencies: ["DuetCrypto"], resources: [.copy("Vectors")]),
        .testTarget(
            name: "DuetMediaTests", dependencies: ["DuetMedia", "DuetWire", "DuetCrypto", "COpus", "DuetFuzzing"],
            resources: [.copy("Vectors")]),
        .testTarget(name: "DuetClientTests", dependencies: ["DuetClient", "DuetCrypto", "DuetMedia", "DuetWire"]),
        // Real servers on loopback driven by real clients (and the TUI's controller): client and server meet only here.
        .testTarget(
            name: "DuetServerTests",
            dependencies: [
                "DuetServer", "DuetClient", "DuetWire", "DuetCrypto", "DuetMedia", "DuetTUI", "DuetFuzzing", "DiskFaults",
                // The directory on PostgreSQL, and several nodes sharing it.
                "PostgresLab",
                // A link whose queue holds a socket's sends: the media thread's full-send-buffer path.
                "NetworkLab",
                // GRDB to play a malicious operator who edits the server's SQLite file while it runs.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl")
            ]),
        .testTarget(name: "DuetTUITests", dependencies: ["DuetTUI", "DuetClient"], resources: [.copy("Golden")]),
        .testTarget(
            name: "DuetDemoTests",
            dependencies: [
                // DuetCrypto for its secret-collecting test hook (the demo-log search for key bytes).
                "DuetDemo", "DuetClient", "DuetCrypto", "DuetFuzzing", .product(name: "Logging", package: "swift-log")
            ]),
        // DuetCrypto: the tests take locks, which `make check-tsan` swaps through DuetCrypto (docs/sanitizers.md).
        .testTarget(name: "duetTests", dependencies: ["duet", "DuetServer", "DuetMedia", "DuetCrypto", "DiskFaults", "NetworkLab"])
    ]
)

// `make check-tsan` sets DUET_TSAN_LOCKS=1: Duet's own targets then use a Mutex that
// ThreadSanitizer can see (Sources/DuetCrypto/Sanitizers/SanitizerVisibleMutex.swift,
// docs/sanitizers.md). Each target that depends on DuetCrypto gets the alias that makes `Mutex`
// mean it from one plugin (Plugins/SanitizerMutexAlias). No effect on any other build.
if Context.environment["DUET_TSAN_LOCKS"] == "1" {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.define("DUET_TSAN_LOCKS")]
        let dependsOnDuetCrypto = target.dependencies.contains { dependency in
            switch dependency {
            case .byNameItem(name: "DuetCrypto", _), .targetItem(name: "DuetCrypto", _): true
            default: false
            }
        }
        if dependsOnDuetCrypto { target.plugins = (target.plugins ?? []) + [.plugin(name: "SanitizerMutexAlias")] }
    }
    package.targets.append(.plugin(name: "SanitizerMutexAlias", capability: .buildTool()))
}
