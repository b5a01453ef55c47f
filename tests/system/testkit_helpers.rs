//! The test kit's helpers never turn an error into a pass: a check against a queue that does not
//! exist fails the test instead of reading as "empty".

use crate::testkit::rabbit;

#[tokio::test]
#[should_panic(expected = "does not exist")]
async fn depth_of_a_missing_queue_fails_the_test() {
    let conn = rabbit::connect().await;
    let queue = format!("no-such-queue-{}", uuid::Uuid::new_v4());
    let n = rabbit::depth(&conn, &queue).await;
    eprintln!("depth of a missing queue read as {n}");
}

#[tokio::test]
#[should_panic(expected = "does not exist")]
async fn purging_a_missing_queue_fails_the_test() {
    let conn = rabbit::connect().await;
    rabbit::purge(&conn, &format!("no-such-queue-{}", uuid::Uuid::new_v4())).await;
}
