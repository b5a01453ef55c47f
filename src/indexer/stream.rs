//! Answers read as they arrive: the body of a large answer (the facts of up to 10,000 alerts)
//! is handed chunk by chunk to a deserialiser on a blocking thread, which folds it into the
//! statistics as it goes, so that the answer is never held whole in memory.

use std::io::{BufReader, Read};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{status_error, truncate, IndexerClient, IndexerError, MAX_RESPONSE_BYTES};

/// Chunks in flight between the network and the deserialiser.
const CHUNKS_IN_FLIGHT: usize = 4;

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
        let mut resp = self
            .request(path, Some(body))
            .send()
            .await
            .map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        if !(200..=299).contains(&status) {
            let bytes = self.read_body(resp).await?;
            return Err(status_error(status, &bytes));
        }
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
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
                    // The deserialiser stopped early (a malformed answer): its error says why.
                    if tx.send(Ok(c.to_vec())).await.is_err() {
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
