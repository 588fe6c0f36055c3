import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Pager, Table, Td, Th } from "./table";

describe("Pager", () => {
  it("shows the range of the first page and only allows Next", async () => {
    const onPage = vi.fn();
    render(<Pager page={1} perPage={20} total={45} onPage={onPage} />);
    const nav = screen.getByRole("navigation", { name: "pagination" });
    expect(nav).toHaveTextContent("1–20 of 45");
    expect(nav).toHaveTextContent("page 1 of 3");
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(onPage).toHaveBeenCalledWith(2);
  });

  it("shows a partial last page and only allows Previous", async () => {
    const onPage = vi.fn();
    render(<Pager page={3} perPage={20} total={45} onPage={onPage} />);
    expect(screen.getByRole("navigation")).toHaveTextContent("41–45 of 45");
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Previous" }));
    expect(onPage).toHaveBeenCalledWith(2);
  });

  it("shows an empty listing as one page with both buttons disabled", () => {
    render(<Pager page={1} perPage={20} total={0} onPage={() => {}} />);
    const nav = screen.getByRole("navigation");
    expect(nav).toHaveTextContent("0 of 0");
    expect(nav).toHaveTextContent("page 1 of 1");
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
  });
});

describe("Table", () => {
  it("is a real table with column headers", () => {
    render(
      <Table>
        <thead>
          <tr>
            <Th>Symbol</Th>
            <Th>Quantity</Th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <Td>SPY</Td>
            <Td>10</Td>
          </tr>
        </tbody>
      </Table>,
    );
    expect(screen.getByRole("table")).toBeInTheDocument();
    expect(screen.getAllByRole("columnheader").map((th) => th.textContent)).toEqual(["Symbol", "Quantity"]);
    expect(screen.getByRole("cell", { name: "SPY" })).toBeInTheDocument();
  });
});
