//! Bounded redelivery that survives restarts: the attempt count travels with the message.
//!
//! OpenCTI declares the listen queue as a classic queue, where the broker only says
//! `redelivered` (true or false), not how many times. A count kept in memory is lost when the
//! process dies, so a request that kills the process (out of memory, a crash) would come back
//! forever — with `restart: always`, a permanent outage. Instead, a request that must be tried
//! again is republished to the listen queue with its attempt number in the headers and the
//! original acked; a delivery the broker marks `redelivered` (the process holding it died, or its
//! channel was cut) is first republished as an *interrupted* copy with the next number. Both
//! numbers are read back here on arrival.
//!
//! This module is the pure part: reading and writing the headers and deciding what an arrival
//! means. Publishing the copies is `amqp::Requeuer`'s job, the order of things the runtime's.

use lapin::types::{AMQPValue, FieldTable};

/// Which delivery of the request this message is (1 = the message as OpenCTI published it).
pub const ATTEMPT_HEADER: &str = "x-connector-attempt";
/// How many of the earlier deliveries ended with the connector stopping mid-request.
pub const INTERRUPTED_HEADER: &str = "x-connector-interrupted";

/// A request's delivery count, as carried in its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first delivery.
    pub number: u32,
    /// Earlier deliveries that were interrupted (the process died or lost its channel).
    pub interrupted: u32,
}

/// What to do with a delivery as it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Process it with the other requests.
    Run(Attempt),
    /// Process it while no other request runs: an earlier delivery of it was interrupted, and
    /// it may be what kills the process — it must not take innocent requests down with it.
    RunAlone(Attempt),
    /// The broker redelivered it: the process that held it died or lost its channel. Republish
    /// it as this attempt (marked interrupted), ack the original, and process the copy.
    Interrupted(Attempt),
}

impl Attempt {
    /// A message without our headers: OpenCTI's own.
    pub const FIRST: Attempt = Attempt {
        number: 1,
        interrupted: 0,
    };

    /// Reads the headers; absent or malformed values count as a first, uninterrupted delivery
    /// (a header we cannot read must not end a request).
    pub fn from_headers(headers: Option<&FieldTable>) -> Attempt {
        let read = |name: &str| headers.and_then(|h| h.inner().get(name)).and_then(as_count);
        Attempt {
            number: read(ATTEMPT_HEADER).filter(|n| *n >= 1).unwrap_or(1),
            interrupted: read(INTERRUPTED_HEADER).unwrap_or(0),
        }
    }

    /// The next attempt after a failure of the request's own (or a handler panic).
    pub fn after_failure(self) -> Attempt {
        Attempt {
            number: self.number.saturating_add(1),
            ..self
        }
    }

    /// The next attempt after the process or channel holding this one went away.
    pub fn after_interruption(self) -> Attempt {
        Attempt {
            number: self.number.saturating_add(1),
            interrupted: self.interrupted.saturating_add(1),
        }
    }

    /// `original`'s headers with ours set to this attempt (other headers are kept).
    pub fn headers(self, original: Option<&FieldTable>) -> FieldTable {
        let mut h = original.cloned().unwrap_or_default();
        h.insert(
            ATTEMPT_HEADER.into(),
            AMQPValue::LongLongInt(i64::from(self.number)),
        );
        h.insert(
            INTERRUPTED_HEADER.into(),
            AMQPValue::LongLongInt(i64::from(self.interrupted)),
        );
        h
    }

    /// Whether the attempt limit is spent: the request is ended in error without processing.
    pub fn exhausted(self, max_attempts: u32) -> bool {
        self.number > max_attempts
    }

    /// The work message of a request whose attempts are spent.
    pub fn give_up_message(self, max_attempts: u32) -> String {
        if self.interrupted > 0 {
            format!(
                "Gave up after {max_attempts} attempt(s): the request was interrupted {} time(s) — the connector stopped while handling it (the process was killed, ran out of memory or crashed, or lost its broker connection); ask for the enrichment again once the cause is fixed",
                self.interrupted
            )
        } else {
            format!("Gave up after {max_attempts} attempt(s): the request kept failing (see the connector log); ask for the enrichment again once the cause is fixed")
        }
    }
}

/// What a delivery means, from the broker's `redelivered` flag and our headers. A redelivery
/// whose next attempt is past the limit is not republished: it is run, and the run ends it in
/// error at once (nothing is enriched, so it cannot kill the process again).
pub fn arrival(redelivered: bool, headers: Option<&FieldTable>, max_attempts: u32) -> Arrival {
    let attempt = Attempt::from_headers(headers);
    if redelivered {
        let next = attempt.after_interruption();
        return if next.exhausted(max_attempts) {
            Arrival::Run(next)
        } else {
            Arrival::Interrupted(next)
        };
    }
    if attempt.interrupted > 0 && !attempt.exhausted(max_attempts) {
        Arrival::RunAlone(attempt)
    } else {
        Arrival::Run(attempt)
    }
}

/// A non-negative integer header of any AMQP integer type.
fn as_count(v: &AMQPValue) -> Option<u32> {
    let n: i64 = match v {
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        _ => return None,
    };
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(number: i64, interrupted: i64) -> FieldTable {
        let mut h = FieldTable::default();
        h.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(number));
        h.insert(
            INTERRUPTED_HEADER.into(),
            AMQPValue::LongInt(interrupted as i32),
        );
        h
    }

    #[test]
    fn opencti_messages_are_first_attempts() {
        assert_eq!(Attempt::from_headers(None), Attempt::FIRST);
        assert_eq!(arrival(false, None, 3), Arrival::Run(Attempt::FIRST));
        let mut junk = FieldTable::default();
        junk.insert(ATTEMPT_HEADER.into(), AMQPValue::LongString("x".into()));
        junk.insert(INTERRUPTED_HEADER.into(), AMQPValue::LongLongInt(-4));
        assert_eq!(Attempt::from_headers(Some(&junk)), Attempt::FIRST);
    }

    #[test]
    fn headers_round_trip_and_keep_the_others() {
        let mut original = FieldTable::default();
        original.insert("keep".into(), AMQPValue::Boolean(true));
        let a = Attempt {
            number: 2,
            interrupted: 1,
        };
        let h = a.headers(Some(&original));
        assert_eq!(Attempt::from_headers(Some(&h)), a);
        assert_eq!(h.inner().get("keep"), Some(&AMQPValue::Boolean(true)));
    }

    #[test]
    fn a_process_killed_three_times_ends_the_request() {
        // Delivered to a process that died: republished as attempt 2, interrupted once.
        let first = arrival(true, None, 3);
        let Arrival::Interrupted(second) = first else {
            panic!("{first:?}")
        };
        assert_eq!((second.number, second.interrupted), (2, 1));
        // The copy runs alone.
        let h = second.headers(None);
        assert_eq!(arrival(false, Some(&h), 3), Arrival::RunAlone(second));
        // Killed again while it ran alone, twice: the fourth delivery is past the limit.
        let third = match arrival(true, Some(&h), 3) {
            Arrival::Interrupted(a) => a,
            other => panic!("{other:?}"),
        };
        let last = arrival(true, Some(&third.headers(None)), 3);
        let Arrival::Run(last) = last else {
            panic!("{last:?}")
        };
        assert!(last.exhausted(3));
        assert_eq!(last.interrupted, 3);
        assert!(last.give_up_message(3).contains("interrupted 3 time(s)"));
    }

    #[test]
    fn own_failures_count_without_marking_interruptions() {
        let a = Attempt::from_headers(Some(&headers(1, 0))).after_failure();
        assert_eq!(arrival(false, Some(&a.headers(None)), 3), Arrival::Run(a));
        let spent = Attempt {
            number: 4,
            interrupted: 0,
        };
        assert!(spent.exhausted(3));
        assert!(spent.give_up_message(3).contains("kept failing"));
        // An exhausted interrupted copy is not run alone: it is only ended in error.
        let h = headers(4, 2);
        assert!(matches!(arrival(false, Some(&h), 3), Arrival::Run(_)));
    }
}
