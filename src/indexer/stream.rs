//! Answers read as they arrive: the body of a large answer (the facts of up to 10,000 alerts)
//! is handed chunk by chunk to a deserialiser on a blocking thread, which folds it into the
//! statistics as it goes, so that the answer is never held whole in memory.

use std::io::{BufReader, Read};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{status_error, truncate, IndexerClient, IndexerError, MAX_RESPONSE_BYTES};

/// Pieces in flight between the network and the deserialiser.
const PIECES_IN_FLIGHT: usize = 4;

/// The size of a piece. The HTTP client reads a fast answer in chunks of up to ~400 KiB;
/// handing those over whole kept several of them (and the client's buffer, which could not be
/// reused while a chunk was still queued) alive per request — most of the daemon's peak heap
/// with four 10,000-alert answers arriving at once. Small copies bound what is in flight to a
/// few pieces, and the chunk is released before the next is read, so the client reuses its
/// buffer.
const PIECE_BYTES: usize = 16 * 1024;

/// The deserialiser's side: the chunks as one byte stream.
struct ChunkReader {
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl IndexerClient {
    /// POST `path` with `body`, retried like every request, the 2xx answer deserialised as
    /// it arrives.
    pub(super) async fn send_folded<T>(&self, path: &str, body: &Value) -> Result<T, IndexerError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.with_retries(|| self.attempt_folded(path, body)).await
    }

    async fn attempt_folded<T>(&self, path: &str, body: &Value) -> Result<T, IndexerError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        // On a connection that is not kept (see `IndexerClient::http_large`).
        let mut resp = self
            .request_on(&self.http_large, path, Some(body))
            .send()
            .await
            .map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            let bytes = self.read_body(resp).await?;
            return Err(status_error(status, &bytes));
        }
        let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
        let reader = ChunkReader {
            rx,
            chunk: Vec::new(),
            at: 0,
        };
        let parse = tokio::task::spawn_blocking(move || {
            serde_json::from_reader::<_, T>(BufReader::with_capacity(16 * 1024, reader))
        });
        let mut received = 0usize;
        let mut failure = None;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    received += c.len();
                    if received > MAX_RESPONSE_BYTES {
                        failure = Some(IndexerError::TooLarge(MAX_RESPONSE_BYTES));
                        break;
                    }
                    if !hand_over(&tx, &c).await {
                        // The deserialiser stopped early (a malformed answer): its error says why.
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(self.classify(&e));
                    let _ = tx
                        .send(Err(std::io::Error::other("the answer was cut off")))
                        .await;
                    break;
                }
            }
        }
        drop(tx);
        let parsed = parse.await.map_err(|e| {
            IndexerError::InvalidResponse(format!("reading the answer failed: {e}"))
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        parsed.map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))
    }
}

/// Sends `chunk` to the deserialiser in pieces of at most [`PIECE_BYTES`]; false when the
/// deserialiser has stopped reading.
async fn hand_over(tx: &mpsc::Sender<std::io::Result<Vec<u8>>>, chunk: &[u8]) -> bool {
    for piece in chunk.chunks(PIECE_BYTES) {
        if tx.send(Ok(piece.to_vec())).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(chunks: Vec<std::io::Result<Vec<u8>>>) -> BufReader<ChunkReader> {
        let (tx, rx) = mpsc::channel(chunks.len().max(1));
        for c in chunks {
            tx.try_send(c).unwrap_or_else(|_| panic!("channel full"));
        }
        BufReader::new(ChunkReader {
            rx,
            chunk: Vec::new(),
            at: 0,
        })
    }

    #[test]
    fn chunks_cut_anywhere_read_as_one_answer() {
        let doc =
            br#"{"took": 7, "hits": {"hits": [{"_source": {"a": "x\u00e9y"}}, {"_source": {}}]}}"#;
        for cut in [1, 3, 17, doc.len() - 1] {
            let chunks = doc.chunks(cut).map(|c| Ok(c.to_vec())).collect();
            let v: Value = serde_json::from_reader(reader(chunks)).unwrap();
            assert_eq!(v["took"], 7);
            assert_eq!(v["hits"]["hits"][0]["_source"]["a"], "xéy");
        }
    }

    #[tokio::test]
    async fn a_large_chunk_goes_over_in_bounded_pieces_in_order() {
        let chunk: Vec<u8> = (0..PIECE_BYTES * 3 + 5).map(|i| (i % 251) as u8).collect();
        let (tx, mut rx) = mpsc::channel(PIECES_IN_FLIGHT);
        let reader = tokio::spawn(async move {
            let mut pieces = Vec::new();
            while let Some(Ok(p)) = rx.recv().await {
                pieces.push(p);
            }
            pieces
        });
        assert!(hand_over(&tx, &chunk).await);
        drop(tx);
        let pieces = reader.await.unwrap();
        assert_eq!(pieces.len(), 4);
        assert!(pieces.iter().all(|p| p.len() <= PIECE_BYTES));
        assert_eq!(pieces.concat(), chunk);
    }

    #[tokio::test]
    async fn handing_over_stops_when_the_deserialiser_has_stopped() {
        let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
        drop(rx);
        assert!(!hand_over(&tx, &[b'x'; 10]).await);
    }

    #[test]
    fn a_cut_off_or_truncated_answer_is_an_error() {
        let cut = vec![
            Ok(br#"{"took": 7, "hits": {"#.to_vec()),
            Err(std::io::Error::other("the answer was cut off")),
        ];
        assert!(serde_json::from_reader::<_, Value>(reader(cut)).is_err());
        let truncated = vec![Ok(br#"{"took": 7, "hits": {"#.to_vec())];
        assert!(serde_json::from_reader::<_, Value>(reader(truncated)).is_err());
    }
}
