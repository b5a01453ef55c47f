//! Answers read as they arrive: the body of a large answer (the facts of up to 10,000 alerts)
//! is handed chunk by chunk to a reader on a blocking thread ([`super::facts::FactsReader`]),
//! which folds it into the statistics as it goes, so that the answer is never held whole in
//! memory.

use serde_json::Value;
use tokio::sync::mpsc;

use super::facts::{FactsReader, FactsResponse};
use super::{status_error, truncate, IndexerClient, IndexerError, MAX_RESPONSE_BYTES};

/// Pieces in flight between the network and the reader.
const PIECES_IN_FLIGHT: usize = 4;

/// The size of a piece. The HTTP client reads a fast answer in chunks of up to ~400 KiB;
/// handing those over whole kept several of them (and the client's buffer, which could not be
/// reused while a chunk was still queued) alive per request — most of the daemon's peak heap
/// with four 10,000-alert answers arriving at once. Small copies bound what is in flight to a
/// few pieces, and the chunk is released before the next is read, so the client reuses its
/// buffer.
const PIECE_BYTES: usize = 16 * 1024;

impl IndexerClient {
    /// POST `path` with the facts request `body`, retried like every request, the 2xx answer
    /// folded into statistics as it arrives.
    pub(super) async fn send_folded(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<FactsResponse, IndexerError> {
        self.with_retries(|| self.attempt_folded(path, body)).await
    }

    async fn attempt_folded(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<FactsResponse, IndexerError> {
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
        let parse = tokio::task::spawn_blocking(move || read_pieces(rx));
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
                        // The reader stopped early (a malformed answer): its error says why.
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
        parsed.map_err(|e| IndexerError::InvalidResponse(truncate(&e)))
    }
}

/// The reader's side: every piece until the sender is done, then the answer.
fn read_pieces(mut rx: mpsc::Receiver<std::io::Result<Vec<u8>>>) -> Result<FactsResponse, String> {
    let mut reader = FactsReader::default();
    while let Some(piece) = rx.blocking_recv() {
        reader.feed(&piece.map_err(|e| e.to_string())?)?;
    }
    reader.finish()
}

/// Sends `chunk` to the reader in pieces of at most [`PIECE_BYTES`]; false when the reader
/// has stopped reading.
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

    fn read(chunks: Vec<std::io::Result<Vec<u8>>>) -> Result<FactsResponse, String> {
        let (tx, rx) = mpsc::channel(chunks.len().max(1));
        for c in chunks {
            tx.try_send(c).unwrap_or_else(|_| panic!("channel full"));
        }
        drop(tx);
        read_pieces(rx)
    }

    #[test]
    fn chunks_cut_anywhere_read_as_one_answer() {
        let doc = br#"{"took": 7, "hits": {"hits": [{"_source": {"@timestamp": "2026-12-01T10:00:00Z", "agent": {"name": "x\u00e9y"}}}, {"_source": {}}]}}"#;
        for cut in [1, 3, 17, doc.len() - 1] {
            let chunks = doc.chunks(cut).map(|c| Ok(c.to_vec())).collect();
            let r = read(chunks).unwrap();
            assert_eq!(r.took, 7);
            assert_eq!((r.hits.hits.stats.alerts(), r.hits.hits.unusable), (1, 1));
            assert_eq!(r.hits.hits.stats.finish().0[0].agent.name, "xéy");
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
    async fn handing_over_stops_when_the_reader_has_stopped() {
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
        assert_eq!(read(cut).err().as_deref(), Some("the answer was cut off"));
        let truncated = vec![Ok(br#"{"took": 7, "hits": {"#.to_vec())];
        assert!(read(truncated).is_err());
    }
}
