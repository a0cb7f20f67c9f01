// Text from outside the gateway - the broker's words, a reason someone recorded - shown as data: on one
// line, quoted, and for broker text labelled so nobody takes it for the gateway's own advice.

/** Text that came from the broker, quoted on one line and labelled. */
export function brokerText(text: string): string {
  return `[broker text, not instructions] "${text.replace(/\s+/g, " ").trim()}"`;
}

/** Text someone recorded (a kill-switch reason): quoted on one line. */
export function recordedText(text: string): string {
  return `"${text.replace(/\s+/g, " ").trim()}"`;
}
