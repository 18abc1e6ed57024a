//! Measures `encrypt_stream` / `decrypt_stream` throughput on a 50 MB buffer.
//!
//! Run: `cargo run --release -p landfall-crypto --example encrypt_throughput [size_mb]`

use std::time::Instant;

use landfall_crypto::{decrypt_stream, encrypt_stream, SessionKey};

fn main() -> Result<(), landfall_crypto::CryptoError> {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let len = mb * 1_000_000;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let session = SessionKey::random();

    for round in 1..=3 {
        let mut enc = Vec::with_capacity(len + 16);
        let t = Instant::now();
        encrypt_stream(&session, &data[..], &mut enc)?;
        let e = t.elapsed();
        let mut dec = Vec::with_capacity(len);
        let t = Instant::now();
        decrypt_stream(&session, &enc[..], &mut dec)?;
        let d = t.elapsed();
        assert!(dec == data, "round trip");
        println!(
            "round {round}: {mb} MB  encrypt {:.1} ms = {:.0} MB/s   decrypt {:.1} ms = {:.0} MB/s",
            e.as_secs_f64() * 1e3,
            len as f64 / 1e6 / e.as_secs_f64(),
            d.as_secs_f64() * 1e3,
            len as f64 / 1e6 / d.as_secs_f64()
        );
    }
    Ok(())
}
