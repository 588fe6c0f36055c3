import { Table, Td, Th } from "@/components/ui/table";
import type { Risk } from "@/lib/api/hooks";
import { money, percent } from "@/lib/format";

type Exposure = Risk["exposure"];

function Row({ name, book }: { name: React.ReactNode; book: Exposure }) {
  return (
    <tr>
      <Td className="font-medium">{name}</Td>
      <Td className="tabular text-right">{money(book.equity)}</Td>
      <Td className="tabular text-right">{money(book.gross_exposure)}</Td>
      <Td className="tabular text-right">{percent(book.capital_deployed)}</Td>
      <Td className="tabular text-right">{book.positions}</Td>
      <Td>{book.largest_symbol ?? "—"}</Td>
      <Td className="tabular text-right">{book.largest_symbol ? percent(book.largest_share_of_gross) : "—"}</Td>
      <Td className="tabular text-right">{book.largest_symbol ? percent(book.largest_share_of_equity) : "—"}</Td>
    </tr>
  );
}

/** Exposure and concentration of the account and of each running paper session's strategy. */
export function ExposureTable({ account, strategies }: { account: Exposure; strategies: Risk["strategies"] }) {
  return (
    <Table aria-label="exposure">
      <thead>
        <tr>
          <Th>Book</Th>
          <Th className="text-right">Equity</Th>
          <Th className="text-right">Gross exposure</Th>
          <Th className="text-right">Capital deployed</Th>
          <Th className="text-right">Positions</Th>
          <Th>Largest</Th>
          <Th className="text-right">Of gross</Th>
          <Th className="text-right">Of equity</Th>
        </tr>
      </thead>
      <tbody>
        <Row name="account" book={account} />
        {Object.entries(strategies).map(([id, book]) => (
          <Row key={id} name={id} book={book} />
        ))}
      </tbody>
    </Table>
  );
}
