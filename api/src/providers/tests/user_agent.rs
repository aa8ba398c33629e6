//! The user_agent provider with real `User-Agent` strings.

use serde_json::{Value, json};

use super::support::found;
use crate::providers::user_agent::UserAgentProvider;
use crate::providers::{Subject, UserAgentConfig};

const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
const CHROME_ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const CHROME_ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

async fn parse(agent: Option<&str>) -> Option<Value> {
    let provider = UserAgentProvider::new(&UserAgentConfig::default()).unwrap();
    let subject = Subject {
        user_agent: agent.map(str::to_owned),
        ..Subject::default()
    };
    found(&provider, &subject).await
}

#[tokio::test]
async fn desktop_chrome_on_windows() {
    let expected = json!({
        "browser": "Chrome", "browser_version": "124.0.0.0", "os": "Windows 10", "device": "desktop"
    });
    assert_eq!(parse(Some(CHROME_WINDOWS)).await, Some(expected));
}

#[tokio::test]
async fn safari_on_iphone_is_mobile() {
    let expected = json!({ "browser": "Safari", "browser_version": "17.4", "os": "iPhone", "device": "mobile" });
    assert_eq!(parse(Some(SAFARI_IPHONE)).await, Some(expected));
}

#[tokio::test]
async fn ipad_and_android_without_mobile_are_tablets() {
    let ipad = parse(Some(SAFARI_IPAD)).await.unwrap();
    assert_eq!(ipad["device"], "tablet");
    assert_eq!(ipad["os"], "iPad");
    let android_tablet = parse(Some(CHROME_ANDROID_TABLET)).await.unwrap();
    assert_eq!(android_tablet["device"], "tablet");
    let android_phone = parse(Some(CHROME_ANDROID_PHONE)).await.unwrap();
    assert_eq!(android_phone["device"], "mobile");
    assert_eq!(android_phone["os"], "Android");
}

#[tokio::test]
async fn googlebot_is_a_bot() {
    let bot = parse(Some(GOOGLEBOT)).await.unwrap();
    assert_eq!(bot["device"], "bot");
    assert_eq!(bot["browser"], "Googlebot");
    assert!(bot.get("os").is_none(), "{bot}");
}

#[tokio::test]
async fn missing_empty_or_meaningless_agent_is_nothing_known() {
    assert_eq!(parse(None).await, None);
    assert_eq!(parse(Some("")).await, None);
    assert_eq!(parse(Some("   ")).await, None);
    assert_eq!(parse(Some("-")).await, None);
    assert_eq!(parse(Some("qwertyuiop")).await, None);
}
