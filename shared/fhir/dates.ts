// Calendar facts the FHIR date formats' regular expressions cannot say: February 30th matches
// `[0-2][0-9]|3[01]` as well as any real day.

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year` (proleptic Gregorian, as FHIR dates). */
export function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS[month - 1];
}

/**
 * Whether a FHIR date, dateTime or instant that already matches its format (YYYY[-MM[-DD...]]) names
 * a day its month does not have. Only days past the 28th need a look.
 */
export function isImpossibleDay(value: string): boolean {
  if (value.length < 10) {
    return false;
  }
  const day = (value.charCodeAt(8) - 48) * 10 + (value.charCodeAt(9) - 48);
  if (day <= 28) {
    return false;
  }
  return day > daysInMonth(Number(value.slice(0, 4)), Number(value.slice(5, 7)));
}
