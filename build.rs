//! Tells the tests what this machine has: `../shared` (the shared corpora) beside the
//! repository, a ChromeDriver for the browser tests, root (to mount a small tmpfs), and a
//! Quickwit (`GEONEWS_QUICKWIT`: its binary; `GEONEWS_QUICKWIT_URL`: a running node). Tests that need either are marked
//! ignored, with the reason, where it is absent, so that a run never reports a pass for work
//! it did not do.

/// Where Debian's `chromium-driver` puts it; `CHROMEDRIVER` names another.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_data)");
    println!("cargo::rustc-check-cfg=cfg(chromedriver)");
    println!("cargo::rustc-check-cfg=cfg(root)");
    println!("cargo::rustc-check-cfg=cfg(quickwit)");
    println!("cargo::rustc-check-cfg=cfg(quickwit_binary)");
    println!("cargo::rerun-if-env-changed=GEONEWS_QUICKWIT");
    println!("cargo::rerun-if-env-changed=GEONEWS_QUICKWIT_URL");
    // The live Quickwit tests: a binary they start nodes of, or a node already running.
    if let Ok(binary) = std::env::var("GEONEWS_QUICKWIT")
        && std::path::Path::new(&binary).is_file()
    {
        println!("cargo::rustc-cfg=quickwit_binary");
        println!("cargo::rustc-cfg=quickwit");
        println!("cargo::rustc-env=GEONEWS_TEST_QUICKWIT={binary}");
    }
    if let Ok(url) = std::env::var("GEONEWS_QUICKWIT_URL") {
        println!("cargo::rustc-cfg=quickwit");
        println!("cargo::rustc-env=GEONEWS_TEST_QUICKWIT_URL={url}");
    }
    println!("cargo::rerun-if-changed=../shared");
    println!("cargo::rerun-if-changed={CHROMEDRIVER}");
    println!("cargo::rerun-if-env-changed=CHROMEDRIVER");
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned());
    if std::path::Path::new(&driver).is_file() {
        println!("cargo::rustc-cfg=chromedriver");
        println!("cargo::rustc-env=GEONEWS_TEST_CHROMEDRIVER={driver}");
    }
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if shared.join("corpora").is_dir() {
        println!("cargo::rustc-cfg=shared_data");
    }
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0");
    if is_root {
        println!("cargo::rustc-cfg=root");
    }
}
