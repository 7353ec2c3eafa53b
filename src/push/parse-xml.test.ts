import { describe, expect, it } from "vitest";
import { PushFormatError } from "../errors.ts";
import { MAX_DEPTH, parsePushXml } from "./parse-xml.ts";

function formatError(xml: string): PushFormatError {
  try {
    parsePushXml(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(PushFormatError);
    return e as PushFormatError;
  }
  throw new Error("expected a PushFormatError");
}

const plain = (x: Record<string, string>) => ({ ...x });

describe("parsePushXml: the shapes WeChat sends", () => {
  it("reads a flat envelope of CDATA and plain text fields", () => {
    const xml =
      "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>";
    expect(plain(parsePushXml(xml))).toEqual({
      ToUserName: "toUser",
      FromUserName: "FromUser",
      CreateTime: "123456789",
      MsgType: "event",
      Event: "subscribe",
    });
  });

  it("ignores whitespace between elements, an XML declaration and a byte-order mark", () => {
    const xml = '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <A><![CDATA[a]]></A>\r\n\t<B>1</B>\n</xml>\n';
    expect(plain(parsePushXml(xml))).toEqual({ A: "a", B: "1" });
  });

  it("keeps whitespace inside a field's value", () => {
    expect(plain(parsePushXml("<xml><Content>  hi\n</Content><C><![CDATA[ x ]]></C></xml>"))).toEqual({ Content: "  hi\n", C: " x " });
  });

  it("joins CDATA split the way WeChat escapes ']]>'", () => {
    expect(parsePushXml("<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>").Content).toBe("a]]>b");
    expect(parsePushXml("<xml><C><![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]></C></xml>").C).toBe("]]>]]>");
  });

  it("joins text and CDATA runs in one field", () => {
    expect(parsePushXml("<xml><C>a<![CDATA[<b>]]>c</C></xml>").C).toBe("a<b>c");
  });

  it("reads self-closing and empty elements as empty strings", () => {
    expect(plain(parsePushXml("<xml><EventKey/><Ticket /><A></A><B><![CDATA[]]></B></xml>"))).toEqual({ EventKey: "", Ticket: "", A: "", B: "" });
  });

  it("accepts an empty root and a self-closing root", () => {
    expect(plain(parsePushXml("<xml></xml>"))).toEqual({});
    expect(plain(parsePushXml("<xml/>"))).toEqual({});
  });

  it("flattens nested elements with dots (video message)", () => {
    const xml = "<xml><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[m]]></MediaId><Title><![CDATA[t]]></Title></Video></xml>";
    expect(plain(parsePushXml(xml))).toEqual({ MsgType: "video", "Video.MediaId": "m", "Video.Title": "t" });
  });

  it("indexes repeated nested elements from the second one on (pic_sysphoto's PicList)", () => {
    const xml =
      "<xml><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>";
    expect(plain(parsePushXml(xml))).toEqual({
      "SendPicsInfo.Count": "2",
      "SendPicsInfo.PicList.item.PicMd5Sum": "a",
      "SendPicsInfo.PicList.item[1].PicMd5Sum": "b",
    });
  });

  it("reads a self-closing nested element as an empty field", () => {
    expect(plain(parsePushXml("<xml><A><B/><C>1</C></A></xml>"))).toEqual({ "A.B": "", "A.C": "1" });
  });

  it("reads scancode_push's ScanCodeInfo", () => {
    const xml = "<xml><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo></xml>";
    expect(plain(parsePushXml(xml))).toEqual({ "ScanCodeInfo.ScanType": "qrcode", "ScanCodeInfo.ScanResult": "1" });
  });

  it("allows whitespace before '>' in tags", () => {
    expect(plain(parsePushXml("<xml ><A >1</A ><B\n/></xml >"))).toEqual({ A: "1", B: "" });
  });

  it("decodes only the five predefined entities and numeric references, and never inside CDATA", () => {
    expect(parsePushXml("<xml><C>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</C></xml>").C).toBe("<>&\"'AB😀");
    expect(parsePushXml("<xml><C><![CDATA[&lt;&amp;]]></C></xml>").C).toBe("&lt;&amp;");
    expect(parsePushXml("<xml><C>&amp;lt;</C></xml>").C).toBe("&lt;");
  });

  it("keeps names like __proto__ as ordinary keys", () => {
    const out = parsePushXml("<xml><__proto__>x</__proto__><constructor>y</constructor></xml>");
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(out.__proto__).toBe("x");
    expect(out.constructor).toBe("y");
  });

  it("keeps unicode text as is", () => {
    expect(parsePushXml("<xml><C>我是中文 🎉</C></xml>").C).toBe("我是中文 🎉");
  });

  it(`accepts nesting up to ${MAX_DEPTH} levels`, () => {
    let xml = "v";
    for (let d = MAX_DEPTH - 1; d >= 1; d--) xml = `<L${d}>${xml}</L${d}>`;
    expect(Object.values(parsePushXml(`<xml>${xml}</xml>`))).toEqual(["v"]);
  });
});

describe("parsePushXml: refuses anything else", () => {
  it.each([
    ["an empty body", ""],
    ["whitespace only", "  \n"],
    ["a non-XML body", "hello"],
    ["JSON", '{"ToUserName":"x"}'],
    ["a DOCTYPE", '<!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>'],
    ["a lowercase doctype", "<!doctype xml><xml></xml>"],
    ["a DOCTYPE after the declaration", '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml/>'],
    ["a bare ENTITY declaration", '<!ENTITY a "b"><xml/>'],
    ["a DOCTYPE inside the root", "<xml><!DOCTYPE x></xml>"],
    ["a custom entity reference", "<xml><A>&xxe;</A></xml>"],
    ["a bare ampersand", "<xml><A>a & b</A></xml>"],
    ["an ampersand without semicolon", "<xml><A>&amp</A></xml>"],
    ["a reference to NUL", "<xml><A>&#0;</A></xml>"],
    ["a reference beyond Unicode", "<xml><A>&#x110000;</A></xml>"],
    ["a reference to a surrogate", "<xml><A>&#xD800;</A></xml>"],
    ["a raw control character", "<xml><A>\u0001</A></xml>"],
    ["a raw NUL in CDATA", "<xml><A><![CDATA[\u0000]]></A></xml>"],
    ["']]>' in plain text", "<xml><A>a]]>b</A></xml>"],
    ["a comment", "<xml><!-- x --><A>1</A></xml>"],
    ["a processing instruction in the body", "<xml><?php echo 1; ?><A>1</A></xml>"],
    ["a processing instruction before the root", '<?xml-stylesheet href="x"?><xml/>'],
    ["a declaration not at the start", "<xml/><?xml version='1.0'?>"],
    ["an unterminated declaration", "<?xml version='1.0'"],
    ["a declaration with markup in it", "<?xml <a> ?><xml/>"],
    ["the wrong root element", "<root><A>1</A></root>"],
    ["a root that merely starts with xml", "<xmlx><A>1</A></xmlx>"],
    ["attributes", '<xml><A b="c">1</A></xml>'],
    ["root attributes", '<xml version="1"><A>1</A></xml>'],
    ["an unclosed root", "<xml><A>1</A>"],
    ["an unclosed field", "<xml><A>1</xml>"],
    ["a mismatched closing tag", "<xml><A>1</B></xml>"],
    ["a stray closing tag", "</A><xml/>"],
    ["an unterminated closing tag", "<xml><A>1</A"],
    ["an unterminated opening tag", "<xml><A"],
    ["an unterminated CDATA section", "<xml><A><![CDATA[abc</A></xml>"],
    ["text after the root", "<xml><A>1</A></xml>junk"],
    ["a second root", "<xml></xml><xml></xml>"],
    ["text directly inside the root", "<xml>hello<A>1</A></xml>"],
    ["CDATA directly inside the root", "<xml><![CDATA[x]]><A>1</A></xml>"],
    ["CDATA before the root", "<![CDATA[x]]><xml/>"],
    ["text mixed with child elements", "<xml><A>x<B>1</B></A></xml>"],
    ["text after child elements", "<xml><A><B>1</B>x</A></xml>"],
    ["CDATA after child elements", "<xml><A><B>1</B><![CDATA[x]]></A></xml>"],
    ["a '<' in text", "<xml><A>a < b</A></xml>"],
    ["a tag name starting with a digit", "<xml><1A>1</1A></xml>"],
    ["a namespaced tag", "<xml><a:b>1</a:b></xml>"],
    ["a field repeated under the root", "<xml><FromUserName>a</FromUserName><FromUserName>b</FromUserName></xml>"],
    ["a leaf and a parent of the same name", "<xml><A>1</A><A><B>2</B></A></xml>"],
    ["text before the root", "x<xml/>"],
    ["a markup declaration", "<xml><![IGNORE[x]]></xml>"],
    ["nesting deeper than MAX_DEPTH", `<xml>${"<a>".repeat(MAX_DEPTH)}${"</a>".repeat(MAX_DEPTH)}</xml>`],
    ["a billion-laughs DOCTYPE", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;">]><xml><A>&lol1;</A></xml>`],
  ])("refuses %s", (_name, xml) => {
    const err = formatError(xml);
    expect(err.code).toBe("PUSH_MALFORMED");
  });

  it("names the field at fault", () => {
    expect(formatError("<xml><CreateTime>&bad;</CreateTime></xml>").field).toBe("CreateTime");
    expect(formatError("<xml><Video><MediaId>&bad;</MediaId></Video></xml>").field).toBe("Video.MediaId");
    expect(formatError("<xml><EventKey>a</EventKey><EventKey>b</EventKey></xml>").field).toBe("EventKey");
    expect(formatError("<xml><A>1</B></xml>").field).toBe("A");
  });

  it("refuses a non-string", () => {
    expect(formatError(Buffer.from("<xml/>") as unknown as string).code).toBe("PUSH_MALFORMED");
  });

  it("parses a body with thousands of fields", () => {
    const fields = Array.from({ length: 5000 }, (_, k) => `<F${k}><![CDATA[${"x".repeat(10)}]]></F${k}>`).join("");
    expect(Object.keys(parsePushXml(`<xml>${fields}</xml>`))).toHaveLength(5000);
  });
});
