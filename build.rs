//! Tells the tests whether `../shared` (the shared corpora) is beside the repository: tests
//! that need it are marked ignored, with the reason, where it is absent, so that a run never
//! reports a pass for work it did not do.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_data)");
    println!("cargo::rerun-if-changed=../shared");
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if shared.join("corpora").is_dir() {
        println!("cargo::rustc-cfg=shared_data");
    }
}
