// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "chkflow",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chkflow", targets: ["chkflow"]),
        // For the benchmark package in Benchmarks/, which builds in release mode on its own.
        .library(
            name: "ChkflowKit",
            targets: [
                "ChkflowCore", "PlaybookYAML", "Playbook", "ManagementAPI", "Engine", "Results",
                "Simulator",
            ]
        ),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "CPlacement"),
        .target(name: "ChkflowCore", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "PlaybookYAML", dependencies: ["CYAML", "ChkflowCore"]),
        .target(name: "Playbook", dependencies: ["ChkflowCore", "PlaybookYAML"]),
        .target(
            name: "ManagementAPI",
            dependencies: ["ChkflowCore", "CCurl", "COpenSSL", "CPlacement"]
        ),
        .target(name: "Engine", dependencies: ["ChkflowCore", "Playbook", "ManagementAPI"]),
        .target(name: "Results", dependencies: ["ChkflowCore", "Engine", "Playbook"]),
        .target(name: "Simulator", dependencies: ["ChkflowCore", "PlaybookYAML", "COpenSSL"]),
        .target(
            name: "ChkflowCLI",
            dependencies: [
                "ChkflowCore", "PlaybookYAML", "Playbook", "ManagementAPI", "Engine", "Results",
                "Simulator",
            ]
        ),
        .executableTarget(name: "chkflow", dependencies: ["ChkflowCLI"]),
        .testTarget(name: "ChkflowCoreTests", dependencies: ["ChkflowCore"]),
        .testTarget(name: "PlaybookYAMLTests", dependencies: ["PlaybookYAML", "CYAML"]),
        .testTarget(
            name: "PlaybookTests",
            dependencies: ["Playbook", "PlaybookYAML"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ManagementAPITests",
            dependencies: ["ManagementAPI", "Simulator", "CPlacement"]
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Playbook", "Simulator"]),
        .testTarget(
            name: "ResultsTests",
            dependencies: ["Results", "Engine", "Playbook"],
            exclude: ["Samples"]
        ),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "ChkflowCore"]),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["ChkflowCore", "Playbook", "ManagementAPI", "Engine", "Simulator"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ChkflowCore"],
            exclude: ["Fixtures"]
        ),
    ]
)
