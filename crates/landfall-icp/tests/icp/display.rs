use landfall_icp::display::*;
use landfall_icp::numbers::*;

fn numbers(filing: &str) -> FilingNumbers {
    FilingNumbers {
        filing: Some(IcpFilingNumber::parse(filing).unwrap()),
        licence: Some(IcpLicenceNumber::parse("粤B2-20090059").unwrap()),
        public_security: Some(PsbNumber::parse("粤公网安备44030702000678号").unwrap()),
    }
}

#[test]
fn app_about_page() {
    let info = display_info(
        &numbers("粤ICP备2023012345号-2A"),
        ServiceKind::App,
        Some("深圳鹿鸣科技有限公司"),
    );
    assert_eq!(
        info.filing_number.as_deref(),
        Some("粤ICP备2023012345号-2A")
    );
    assert_eq!(info.miit_url, "https://beian.miit.gov.cn/");
    assert_eq!(
        info.public_security_url.as_deref(),
        Some("https://beian.mps.gov.cn/#/query/webSearch?code=44030702000678")
    );
    assert!(
        info.text_zh.contains("APP备案号：粤ICP备2023012345号-2A"),
        "{}",
        info.text_zh
    );
    assert!(info.text_zh.contains("主办单位：深圳鹿鸣科技有限公司"));
    assert!(info.text_en.contains(
        "App ICP filing number: 粤ICP备2023012345号-2A (verify at https://beian.miit.gov.cn/)"
    ));
    assert!(info.html.contains(
        r#"<a href="https://beian.miit.gov.cn/" target="_blank" rel="noopener noreferrer">粤ICP备2023012345号-2A</a>"#
    ));
    assert!(info
        .html
        .contains(r#"href="https://beian.mps.gov.cn/#/query/webSearch?code=44030702000678""#));
    assert!(info.html.contains("粤B2-20090059"));
    assert_eq!(info.lines.len(), 4);
}

#[test]
fn guangdong_websites_show_the_entity_number() {
    let gd = display_info(
        &numbers("粤ICP备2023012345号-1"),
        ServiceKind::Website,
        None,
    );
    assert_eq!(gd.filing_number.as_deref(), Some("粤ICP备2023012345号"));
    let mut bj = numbers("京ICP备12345678号-1");
    bj.public_security = None;
    let bj = display_info(&bj, ServiceKind::Website, None);
    assert_eq!(bj.filing_number.as_deref(), Some("京ICP备12345678号-1"));
    assert!(bj.text_zh.contains("ICP备案号："));
    assert!(bj.public_security_url.is_none());
}

#[test]
fn html_escapes_everything() {
    let info = display_info(
        &numbers("粤ICP备2023012345号-2A"),
        ServiceKind::App,
        Some(r#"<script>alert("x")</script> & Co's"#),
    );
    assert!(!info.html.contains("<script>"));
    assert!(info
        .html
        .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s"));
    assert_eq!(
        escape_html(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    let empty = display_info(&FilingNumbers::default(), ServiceKind::App, None);
    assert!(empty.html.is_empty() && empty.lines.is_empty());
}
