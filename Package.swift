// swift-tools-version: 6.1
import PackageDescription

/// One settings list for every target: Swift 6 mode (strict concurrency) and the upcoming features the house style asks for.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "SluicePostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pg-bench",
            dependencies: ["SluicePostgres"],
            path: "Benchmarks/pg-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluicePostgresTests",
            dependencies: ["SluicePostgres"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CSluiceFileIO"
        ),
        .target(
            name: "SluiceExport",
            dependencies: ["CSluiceFileIO"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceFeatureStore",
            dependencies: [
                "SluicePostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceWorker",
            dependencies: [
                "SluiceInference",
                "SluiceRegistry",
                "SluiceMonitoring",
                "SluiceKafka",
                "SluicePostgres",
                "SluiceFeatures",
                "SluiceFeatureStore",
                "SluiceConfiguration",
                "SluiceSnapshots",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The running service: lifecycle (ServiceGroup), the HTTP admin API, readiness and Prometheus metrics.
        .target(
            name: "SluiceService",
            dependencies: [
                "SluiceWorker",
                "SluiceRegistry",
                "SluiceSnapshots",
                "SluiceFeatureStore",
                "SluiceFeatures",
                "SluiceMonitoring",
                "SluiceEvaluation",
                "SluiceKafka",
                "SluicePostgres",
                "SluiceConfiguration",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceKafka",
                "SluicePostgres",
                "SluiceFeatures",
                "SluiceConfiguration",
                "SluiceFeatureStore",
                "SluiceWorker",
                "SluiceRegistry",
                "SluiceInference",
                "SluiceMonitoring",
                "SluiceEvaluation",
                "SluiceSnapshots",
                "SluiceService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceConfiguration",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceConfigurationTests",
            dependencies: ["SluiceConfiguration"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CSluicePrefetch"
        ),
        .target(
            name: "SluiceFeatures",
            dependencies: ["CSluicePrefetch"],
            swiftSettings: swiftSettings,
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "features-bench",
            dependencies: ["SluiceFeatures"],
            path: "Benchmarks/features-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "decoder-bench",
            dependencies: ["SluiceFeatures"],
            path: "Benchmarks/decoder-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceFeaturesTests",
            dependencies: ["SluiceFeatures"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceInference",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "models-bench",
            dependencies: ["SluiceInference"],
            path: "Benchmarks/models-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceInferenceTests",
            dependencies: ["SluiceInference"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceEvaluation",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceEvaluationTests",
            dependencies: ["SluiceEvaluation"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceRegistry",
            dependencies: [
                "SluiceEvaluation",
                "SluiceInference",
                "SluiceMonitoring",
                "SluicePostgres",
                "SluiceFeatureStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceRegistryTests",
            dependencies: [
                "SluiceRegistry",
                "SluiceEvaluation",
                "SluiceInference",
                "SluiceMonitoring",
                "SluicePostgres",
                "SluiceFeatureStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceMonitoring",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drift-bench",
            dependencies: ["SluiceMonitoring"],
            path: "Benchmarks/drift-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceMonitoringTests",
            dependencies: ["SluiceMonitoring"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "export-bench",
            dependencies: ["SluiceExport"],
            path: "Benchmarks/export-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceExportTests",
            dependencies: ["SluiceExport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceWorkerTests",
            dependencies: [
                "SluiceWorker", "SluiceFeatureStore", "SluiceFeatures", "SluiceKafka", "SluicePostgres", "SluiceConfiguration", "SluiceInference",
                "SluiceRegistry", "SluiceMonitoring", "SluiceSnapshots", "SluiceService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceSnapshots",
            dependencies: [
                "SluiceExport",
                "SluicePostgres",
                "SluiceFeatureStore",
                "SluiceFeatures",
                "SluiceKafka",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceSnapshotsTests",
            dependencies: [
                "SluiceTestSupport",
                "SluiceSnapshots",
                "SluiceExport",
                "SluicePostgres",
                "SluiceFeatureStore",
                "SluiceKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "snapshot-bench",
            dependencies: [
                "SluiceSnapshots",
                "SluicePostgres",
                "SluiceFeatureStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/snapshot-bench",
            swiftSettings: swiftSettings
        ),
        // Test helpers shared by the test targets (a Kafka cluster for integration tests, deadlines).
        .target(
            name: "SluiceTestSupport",
            dependencies: ["SluiceKafka", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SluiceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceKafkaTests",
            dependencies: ["SluiceTestSupport", "SluiceKafka"],
            swiftSettings: swiftSettings
        ),
    ]
)
