/** Delivery-challan formats shared by the server (CSV, clipboard endpoint) and the console. */

/** A calendar day 'YYYY-MM-DD' as the register writes it: 'DD-MM-YYYY'; null and '' stay empty. */
export function dayDmy(day: string | null | undefined): string {
  if (!day) return '';
  const [year, month, date] = day.slice(0, 10).split('-');
  return `${date}-${month}-${year}`;
}

export interface ClipboardChallan {
  number: string;
  challanDate: string;
  customerName: string;
  description: string;
}

/**
 * The text office staff paste into mails and chats: per challan a four-line "Label: value" block, blocks
 * separated by a line holding a single "-".
 */
export function clipboardText(challans: ClipboardChallan[]): string {
  return challans
    .map((c) => [
      `Challan Number: ${c.number}`,
      `Date: ${dayDmy(c.challanDate)}`,
      `Customer Name: ${c.customerName}`,
      `Description: ${c.description}`,
    ].join('\n'))
    .join('\n-\n');
}
