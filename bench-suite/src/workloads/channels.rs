//! Message passing through each runtime's own bounded mpsc channel.

use crate::rt::{MpscReceiver, MpscSender, Runtime};

/// `producers` tasks send `total` messages in all through one channel of `capacity` to a
/// consumer task. Ops: messages received.
pub fn mpsc<R: Runtime>(rt: &R, producers: usize, total: usize, capacity: usize) -> u64 {
    rt.block_on(rt.spawn(async move {
        let (tx, mut rx) = R::mpsc::<usize>(capacity);
        let per = total / producers;
        for p in 0..producers {
            let tx = tx.clone();
            drop(R::spawn_local(async move {
                for i in 0..per {
                    if tx.send(p * per + i).await.is_err() {
                        panic!("receiver dropped early");
                    }
                }
            }));
        }
        drop(tx);
        let mut received = 0u64;
        while rx.recv().await.is_some() {
            received += 1;
        }
        assert_eq!(
            received as usize,
            per * producers,
            "lost or duplicated messages"
        );
        received
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn every_message_arrives_on_both() {
        assert_eq!(mpsc(&Zokio::multi_thread(2), 4, 1_000, 8), 1_000);
        assert_eq!(mpsc(&Tokio::multi_thread(2), 4, 1_000, 8), 1_000);
    }
}
