// swift-tools-version: 6.0
import PackageDescription

// The benchmarks of chkflow, a package of their own so that they build in release mode apart
// from the product and never slow down `swift build` at the root.
let package = Package(
    name: "chkflow-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "chkflow", path: "..")],
    targets: [
        .executableTarget(
            name: "chkflow-bench",
            dependencies: [.product(name: "ChkflowKit", package: "chkflow")]
        )
    ]
)
